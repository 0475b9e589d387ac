"""Make the README's screenshots (docs/figures/dashboard.png and report.png).

    python3 tests/browser/screenshots.py            # about two minutes

Runs ``stridecue dashboard --demo 4`` (four simulated athletes, a 400 m rep each, real
time), photographs the page after 75 s with Debian's chromium, then writes the report
of the recorded session and photographs Ben's section (he fades and gets cued).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from browserkit import CHROMIUM_ARGS, chromium_path
from playwright.sync_api import sync_playwright

FIGURES = Path(__file__).parents[2] / "docs" / "figures"


def main() -> int:
    exe = chromium_path()
    if exe is None:
        print("install Debian's chromium first (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["stridecue", "dashboard", "--demo", "4", "--duration", "100", "--port", "0"]
        proc = subprocess.Popen([*cmd, "--sessions-dir", tmp], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            m = re.search(r"dashboard: (http\S+)", line)
            if m:
                url = m.group(1)
                break
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1340, "height": 900})
            page.goto(url)
            time.sleep(75)
            page.screenshot(path=str(FIGURES / "dashboard.png"), full_page=True)
            proc.wait()
            (session,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
            subprocess.run(["stridecue", "report", str(session), "--goal-400", "64"], check=True)
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.goto((session / "report" / "index.html").as_uri() + "#Ben")
            page.screenshot(path=str(FIGURES / "report.png"))
            browser.close()
    print(f"wrote {FIGURES / 'dashboard.png'} and {FIGURES / 'report.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
