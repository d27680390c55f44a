#!/bin/sh
# Seeds fuzz/corpus/<harness>/ from the repository's fixtures, so every run starts from real-shaped inputs.
# Nothing is committed: corpus/ is ignored, and libFuzzer grows it in place during long runs.
# Usage: fuzz/make-corpus.sh [BIN_DIR]   (BIN_DIR: where the harnesses were built; default .build-fuzz/release)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-"$here/.build-fuzz/release"}
fixtures="$here/../fixtures"
corpus="$here/corpus"
mkdir -p "$corpus/woocommerce" "$corpus/cybersource" "$corpus/formats"

# Every WooCommerce fixture under 64 KiB (larger ones slow every iteration and teach libFuzzer little).
find "$fixtures" -type f \( -name '*.json' -o -name '*.txt' \) -size -64k -exec cp {} "$corpus/woocommerce/" \;

# CyberSource callbacks must carry a signature the harness accepts, so the harness writes them itself.
if [ -x "$bin/FuzzCyberSource" ]; then
    FUZZ_WRITE_SEEDS="$corpus/cybersource" "$bin/FuzzCyberSource" -runs=0 "$corpus/cybersource" >/dev/null 2>&1
else
    echo "make-corpus.sh: $bin/FuzzCyberSource is not built yet; build first for the CyberSource seeds" >&2
fi

# Form bodies (the ping, the callbacks without their mode byte) and the scalar formats.
cp "$fixtures/woocommerce/ping.txt" "$corpus/formats/ping"
for seed in "$corpus"/cybersource/seed-*-raw; do
    [ -e "$seed" ] && tail -c +2 "$seed" > "$corpus/formats/callback-$(basename "$seed")"
done
i=0
for text in '10.00' '-0.07' '999999999999999.99' '1.000' '2014-08-18T14:07:10Z' '2000-02-29T23:59:59Z' \
            'a=%C3%A9+b&c=&&d' 'webhook_id=42'; do
    printf '%s' "$text" > "$corpus/formats/literal-$i"
    i=$((i + 1))
done
echo "seeded: $(ls "$corpus/woocommerce" | wc -l) woocommerce, $(ls "$corpus/cybersource" | wc -l) cybersource, $(ls "$corpus/formats" | wc -l) formats"
