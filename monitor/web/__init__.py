"""`python -m monitor web`: a live dashboard in the browser, on the same receiver and checker as `record`
and `watch` (the same recording, the same findings), served by the monitor itself (aiohttp; the page is
in `static/`, written here: no CDN, no framework, it works offline).

| module | owns |
|---|---|
| `run` | the process: where it may listen and with what token, the server and the session's thread |
| `feed` | the session's thread: what was received and found, as cards, log lines and timeline points |
| `store` | what the two threads share, and what each open page still lacks (`delta()`: paged, diffs) |
| `cards` | a device's card, a log line, the `seq` step (pure) |
| `server` | the HTTP routes, the token, the WebSocket: updates out, requests (view, select, command) in |
| `static/` | the page: `index.html`, `app.js` (cards, log, the SVG timeline), `app.css` |
"""
