/// The console's one stylesheet: readable on a laptop and a phone, no web fonts, no build step.
enum ConsoleStyle {
    static let css = """
        :root { --ink: #1d2330; --muted: #5c6474; --line: #d8dce3; --bg: #f6f7f9; --accent: #1f5fbf; --bad: #b3261e; --good: #1e7b34; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
        nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; flex: 1; }
        nav a { color: var(--muted); text-decoration: none; }
        nav a[aria-current="page"] { color: var(--ink); font-weight: 600; border-bottom: 2px solid var(--accent); }
        .who { color: var(--muted); font-size: .9em; display: flex; gap: .5rem; align-items: center; }
        main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.35rem; margin: .25rem 0 1rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
        a { color: var(--accent); }
        .scroll { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8em; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: #fafbfc; }
        td { word-break: break-word; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .75rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem; }
        .card b { display: block; font-size: 1.5rem; }
        .card span { color: var(--muted); font-size: .85em; }
        .badge { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: .8em; background: #e8eaef; }
        .badge.failed, .badge.rejected { background: #fbe3e1; color: var(--bad); }
        .badge.succeeded, .badge.accepted, .badge.paid { background: #e1f3e5; color: var(--good); }
        .badge.running, .badge.queued { background: #e3ecfb; color: var(--accent); }
        form.inline { display: inline-block; margin: 0 .4rem .3rem 0; }
        form.search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; background: #fff; padding: .75rem; border: 1px solid var(--line); border-radius: 6px; }
        label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
        input, select { font: inherit; padding: .3rem .4rem; border: 1px solid var(--line); border-radius: 4px; min-width: 9rem; }
        button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
        button.danger { background: var(--bad); border-color: var(--bad); }
        .notice { background: #fff8e1; border: 1px solid #f0d48a; padding: .5rem .75rem; border-radius: 6px; }
        .refused { color: var(--bad); }
        .empty { color: var(--muted); }
        pre { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem; }
        dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
        .pager { margin: .75rem 0; }
        @media (max-width: 600px) { body { font-size: 14px; } th, td { padding: .35rem .4rem; } .who { width: 100%; } }
        """
}
