"""`python -m monitor plot`: a timeline of a recording, one block of lanes per device, with the checker's
findings on it. One module per concern:

| module | owns |
|---|---|
| `choose` | which devices to draw: `--device`, else those with findings first, capped |
| `lanes` | recording + findings -> `Timeline`: plain values per device and lane (pure, no drawing) |
| `svg` | `Timeline` -> SVG text: the one renderer (`.svg`, inline in `.html`, rasterized for `.png`) |
| `output` | the three output formats around that SVG, and where the file goes |
| `run` | the command: read the recording twice (check it, then collect the chosen devices' lanes) |

Why hand-written SVG: it needs no dependency, works offline, and one renderer serves all three formats:
inline in HTML (hover titles with the witness, a little CSS), as a `.svg`, and as a `.png` through resvg
(`resvg-py`, a self-contained wheel: no Cairo, no browser). matplotlib (~41 MB with numpy) or plotly (a
4.8 MB page, or one that loads plotly from the network) would be heavier and draw nothing more here.
"""
