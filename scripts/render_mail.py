#!/usr/bin/env python3
"""Render the HTML body of a mail as a phone and a laptop show it, to look before a change lands.

    scripts/render_mail.py [MAIL.eml] [--out DIR] [--widths 390,1366]

Without MAIL.eml, the newest .eml in out/outbox (what scripts/demo.sh writes). For each width it
writes DIR/<name>-<width>.png (a screenshot by headless Chromium, /usr/bin/chromium or $CHROMIUM)
and prints whether the page fits: its scroll width against the window's width (wider means a
reader has to scroll sideways). DIR defaults to target/look/. Also writes DIR/<name>.html and
DIR/<name>.txt (the text part). Needs only Python 3 and Chromium; install a font with Vietnamese
glyphs (fonts-noto-core or fonts-dejavu) or the diacritics show as boxes.

Exit code: 0 when every width fits, 1 when a page is wider than its window, 2 on a usage error.
"""

import argparse
import email
import email.policy
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
# Headless Chromium lays a page out no narrower than about 500 px whatever --window-size says,
# so the width is measured in an iframe exactly as wide as the screen: the page's scroll width
# there against the frame's, read back with --dump-dom.
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{src}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {{
  var w = this.contentWindow, d = w.document.documentElement;
  var p = document.createElement('pre');
  p.textContent = 'scroll=' + d.scrollWidth + ' inner=' + w.innerWidth;
  document.body.appendChild(p);
}});
</script></body></html>
"""

def newest_eml() -> Path:
    outbox = ROOT / "out" / "outbox"
    emls = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    if not emls:
        sys.exit(f"no .eml in {outbox}: run scripts/demo.sh first, or name a mail")
    return emls[-1]


def parts(path: Path) -> tuple[str, str, str]:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    html = msg.get_body(preferencelist=("html",))
    if html is None:
        sys.exit(f"{path}: no text/html part")
    text = msg.get_body(preferencelist=("plain",))
    return str(msg["Subject"]), html.get_content(), text.get_content() if text else ""


def chromium(args: list[str], profile: str) -> subprocess.CompletedProcess:
    exe = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("eml", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "look")
    ap.add_argument("--widths", default="390,1366")
    ap.add_argument("--height", type=int, default=2000)
    a = ap.parse_args()
    a.out = a.out.resolve()
    eml = a.eml or newest_eml()
    subject, html, text = parts(eml)
    a.out.mkdir(parents=True, exist_ok=True)
    name = "mail"
    page = a.out / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    (a.out / f"{name}.txt").write_text(text, encoding="utf-8")
    probe = a.out / f"{name}.probe.html"
    print(f"mail:    {eml}")
    print(f"subject: {subject}")

    wide = False
    for width in [int(w) for w in a.widths.split(",")]:
        size = f"--window-size={width},{a.height}"
        shot = a.out / f"{name}-{width}.png"
        with tempfile.TemporaryDirectory(prefix="tonghop-chromium-") as profile:
            r = chromium([size, f"--screenshot={shot}", page.as_uri()], profile)
            if r.returncode != 0 or not shot.exists():
                print(r.stderr, file=sys.stderr)
                sys.exit(f"chromium failed at {width} px (exit {r.returncode})")
        frame = FRAME.format(src=page.name, width=width, height=a.height)
        probe.write_text(frame, encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="tonghop-chromium-") as profile:
            r = chromium(
                [size, "--allow-file-access-from-files", "--dump-dom", probe.as_uri()],
                profile,
            )
        m = re.search(r"scroll=(\d+) inner=(\d+)", r.stdout)
        if not m:
            print(f"{width:>5} px: {shot} (width not measured)")
            continue
        scroll, inner = int(m.group(1)), int(m.group(2))
        fits = scroll <= inner
        wide |= not fits
        verdict = "fits" if fits else f"TOO WIDE by {scroll - inner} px"
        print(f"{width:>5} px: {shot}  page {scroll} px in a {inner} px window: {verdict}")
    probe.unlink()
    return 1 if wide else 0


if __name__ == "__main__":
    sys.exit(main())
