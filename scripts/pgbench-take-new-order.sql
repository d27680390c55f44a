-- PostgreSQL's own ceiling for intake's new-order write, without Registrar (BENCHMARKS.md, PostgreSQL second round):
--   pgbench -n -h HOST -p PORT -U USER -c 20 -j 2 -T 10 -f scripts/pgbench-take-new-order.sql DATABASE
-- DATABASE migrated by registrar migrate (schema 4 or later). A new order each time: two enroll jobs, a 3.7 KB body, its sale.
\set oid random(1, 2000000000)
BEGIN;
SELECT * FROM registrar_take_new_order('woo:main:' || :oid, 'main', :oid, 'woo:main:' || :oid || ':', 'woo:main:' || :oid || ';', NULL, 'woocommerce', 'main', '{"content-type":"application/json"}', convert_to(repeat('x', 3700), 'UTF8'), 3700, 'abc', 'accepted', 200, NULL, ARRAY['a' || :oid || '|c1', 'a' || :oid || '|c2'], ARRAY['enroll','enroll'], ARRAY['woo:main:' || :oid || ':1:enroll', 'woo:main:' || :oid || ':2:enroll'], ARRAY['a' || :oid || '|c1', 'a' || :oid || '|c2'], ARRAY['{"a":1}', '{"a":2}'], ARRAY[25,25], ARRAY['woocommerce:main','woocommerce:main'], '2026-01-01T00:00:00', 'completed', '98.00', 'USD', 'woocommerce', 'main:' || :oid, 'x@example.com', 'USD', '[]');
COMMIT;
