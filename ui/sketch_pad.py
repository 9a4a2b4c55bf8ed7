"""The sketchpad: a canvas of the page's own that hands its drawing over as a small PNG.

Gradio's image editor composites its layers, encodes a PNG and uploads it before any
request leaves the page: about 0.45 s in headless Chromium, most of the time a sketch
waited for its answer (benchmarks/ui_sketch.py).  This canvas draws with the pointer
(mouse, pen or finger) and sends a ``data:`` URL of itself as the component's value,
at the end of each stroke and every few tenths of a second while a stroke is drawn,
so the prediction follows the pen.  The server reads it back here, within the same
size limits as any picture.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import gradio as gr

from archzoo.errors import ArchzooError
from archzoo.registry.limits import MAX_IMAGE_PIXELS, LimitError, check_image_size

#: What the page sends: a PNG as a data: URL.
PREFIX = "data:image/png;base64,"
#: A drawing on the 280 x 280 canvas is 5-30 kB; anything far larger is not one.
MAX_DRAWING_CHARS = 2_000_000
#: The canvas' own pixels a side, and the pen's width in them.
SIDE = 280
PEN_WIDTH = 14
#: Seconds between two sends while a stroke is drawn (the stroke's end always sends).
FOLLOW_EVERY_S = 0.25

TEMPLATE = f"""
<div class="az-pad">
  <div class="az-pad-head">
    <span>Draw here (one digit, big, with the mouse or a finger)</span>
    <button type="button" class="az-pad-clear" aria-label="Clear canvas">Clear</button>
  </div>
  <canvas width="{SIDE}" height="{SIDE}" aria-label="sketchpad: draw a digit"></canvas>
</div>
"""

CSS = """
.az-pad { display: flex; flex-direction: column; gap: 6px; }
.az-pad-head { display: flex; justify-content: space-between; align-items: center; font-size: 0.9em; }
.az-pad canvas { width: min(280px, 100%); aspect-ratio: 1; background: #fff; border: 1px solid #999;
  border-radius: 6px; touch-action: none; cursor: crosshair; }
.az-pad-clear { padding: 2px 10px; border: 1px solid #999; border-radius: 4px; background: transparent; }
"""

#: Runs once when the pad is shown (``element``, ``props`` and ``trigger`` are Gradio's).
#: Setting ``props.value`` does not redraw the canvas: the template does not show the value.
SCRIPT = f"""
const canvas = element.querySelector('canvas');
const pen = canvas.getContext('2d');
let drawing = false, drawn = false, last = null, sent = 0;
const wipe = () => {{ pen.fillStyle = '#fff'; pen.fillRect(0, 0, canvas.width, canvas.height); drawn = false; }};
const at = (event) => {{
  const box = canvas.getBoundingClientRect();
  const x = (event.clientX - box.left) * canvas.width / box.width;
  return [x, (event.clientY - box.top) * canvas.height / box.height];
}};
const send = () => {{
  sent = performance.now(); props.value = drawn ? canvas.toDataURL('image/png') : ''; trigger('input');
}};
const line = (from, to) => {{
  pen.strokeStyle = '#000'; pen.lineWidth = {PEN_WIDTH}; pen.lineCap = 'round'; pen.lineJoin = 'round';
  pen.beginPath(); pen.moveTo(from[0], from[1]); pen.lineTo(to[0], to[1]); pen.stroke();
}};
wipe();
canvas.addEventListener('pointerdown', (event) => {{
  drawing = true; drawn = true; last = at(event); line(last, last);
  canvas.setPointerCapture(event.pointerId);
}});
canvas.addEventListener('pointermove', (event) => {{
  if (!drawing) return;
  const here = at(event); line(last, here); last = here;
  if (performance.now() - sent > {FOLLOW_EVERY_S * 1000:.0f}) send();
}});
const finish = () => {{ if (drawing) {{ drawing = false; send(); }} }};
canvas.addEventListener('pointerup', finish);
canvas.addEventListener('pointercancel', finish);
element.querySelector('.az-pad-clear').addEventListener('click', () => {{ wipe(); send(); }});
"""


def build(elem_id: str = "az-sketch") -> gr.HTML:
    """The pad; its value is the drawing as a PNG data: URL ('' when empty)."""
    return gr.HTML(
        "",
        html_template=TEMPLATE,
        css_template=CSS,
        js_on_load=SCRIPT,
        apply_default_css=False,
        elem_id=elem_id,
    )


def read_drawing(value: Any) -> Any:
    """The pad's value -> a PIL image, or ``None`` for an empty pad.  Anything but a PNG
    data: URL of at most :data:`MAX_DRAWING_CHARS` characters and
    :data:`~archzoo.registry.limits.MAX_IMAGE_PIXELS` pixels is refused by name."""
    from PIL import Image, UnidentifiedImageError

    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(PREFIX):
        raise ArchzooError("the drawing must be a PNG data: URL ('data:image/png;base64,...')")
    if len(value) > MAX_DRAWING_CHARS:
        raise LimitError(f"the drawing is {len(value):,} characters; a drawing is at most {MAX_DRAWING_CHARS:,}")
    try:
        data = base64.b64decode(value[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ArchzooError("the drawing is not valid base64 after 'data:image/png;base64,'") from None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format != "PNG":
                raise ArchzooError(f"the drawing is a {opened.format} image; the pad sends PNG")
            check_image_size(*opened.size, what="the drawing")
            opened.load()
            return opened.copy()
    except Image.DecompressionBombError:
        raise LimitError(f"the drawing is far larger than the limit of {MAX_IMAGE_PIXELS:,} pixels") from None
    except (UnidentifiedImageError, OSError):
        raise ArchzooError("the drawing is not a PNG archzoo can read (damaged or cut short)") from None
