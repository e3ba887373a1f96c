"""One HTML page per tool run, next to its PNGs: var/reports/<tool>-<timestamp>/index.html.

Self-contained: no script, no web font, no stylesheet from elsewhere; the pictures are files
in the same folder, linked by relative name, so the folder can be copied or attached whole.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "img{max-width:100%;border:1px solid #ddd}pre{background:#f6f6f6;padding:1em;overflow:auto}"
    "figure{margin:2em 0}figcaption{color:#555;font-size:.9em}"
)


@dataclass
class ReportPage:
    """Collects figures and text sections of one run; write() produces the page."""

    tool: str
    directory: Path
    title: str
    sections: list[tuple[str, str, str]] = field(default_factory=list)  # kind, heading, body

    @classmethod
    def create(
        cls, tool: str, reports_dir: Path, title: str, now: datetime | None = None
    ) -> ReportPage:
        """A fresh folder <reports_dir>/<tool>-<YYYYmmdd-HHMMSS>[-n] for this run."""
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        reports_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(100):
            directory = reports_dir / (f"{tool}-{stamp}" + (f"-{attempt}" if attempt else ""))
            try:
                directory.mkdir()
            except FileExistsError:
                continue
            return cls(tool, directory, title)
        raise RuntimeError(f"no free report folder for {tool}-{stamp} in {reports_dir}")

    def figure(self, name: str, heading: str, caption: str = "") -> Path:
        """The path a chart is to be written to; the page shows it under `heading`."""
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"figure name {name!r}: letters, digits, - and _ only")
        path = self.directory / f"{name}.png"
        self.sections.append(("figure", heading, f"{path.name}\n{caption}"))
        return path

    def text(self, heading: str, body: str) -> None:
        """A preformatted section (e.g. the Markdown table the tool printed)."""
        self.sections.append(("text", heading, body))

    def write(self) -> Path:
        """index.html; every figure announced must exist by now."""
        parts = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        for kind, heading, body in self.sections:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
            if kind == "text":
                parts.append(f"<pre>{html.escape(body)}</pre>")
                continue
            name, caption = body.split("\n", 1)
            if not (self.directory / name).is_file():
                raise FileNotFoundError(f"figure {name} was announced but not written")
            parts.append(
                f'<figure><a href="{html.escape(name)}"><img src="{html.escape(name)}" '
                f'alt="{html.escape(heading)}"></a>'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        parts.append("</body></html>")
        page = self.directory / "index.html"
        page.write_text("\n".join(parts) + "\n", encoding="utf-8")
        return page
