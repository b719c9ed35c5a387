"""What the viewer benchmarks (bench/viewer_bench.py, scrub_timeline.py) share about the viewer page."""

from __future__ import annotations

STAGE = 2048                           # the view: 2048 x 2048 CSS pixels
IDLE = "() => window.viewer && window.viewer.idle && window.viewer.idle() && window.viewer.timings.firstImage !== undefined"


def wait_idle(page, timeout=120_000):
    """Until the viewer has drawn its first image and has nothing left to load (twice, 50 ms apart)."""
    page.wait_for_function(IDLE, timeout=timeout)
    page.wait_for_timeout(50)
    page.wait_for_function(IDLE, timeout=timeout)
