"""How much one request may ask of archzoo: every size, count and budget, in one place.

The app is shared (a teacher serves it to a class), and checkpoints come from
other people, so whatever a browser user sends or a ``config.json`` says is
bounded here, before any work or allocation.  The CLI applies the same limits,
with the same messages, to what it is given.  docs/security.md lists them.

Torch-free: the numbers are checked before anything is built.
"""

from __future__ import annotations

from archzoo.errors import ArchzooError


class LimitError(ArchzooError, ValueError):
    """A request or a file asks for more than archzoo allows: names what, how much, and the limit."""


# -- requests from the app or the command line ------------------------------------------------

#: Lines of text in one prediction request (each line is one example).
MAX_TEXT_LINES = 10_000
#: Bytes of text in one prediction request.
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: Rows of a table (CSV/JSON) in one prediction request.
MAX_ROWS = 100_000
#: Pixels of one image read for a prediction (width x height); a 4096 x 4096 photo is within.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Samples one generation request may draw.
MAX_SAMPLES = 256
#: Classes shown for one prediction (--top-k).
MAX_TOP_K = 1000
#: Cells a side of a view's grid (``archzoo show --resolution``): 500 x 500 predictions.
MAX_VIEW_RESOLUTION = 500
#: Images, points or examples one view may draw (``archzoo show --count``).
MAX_VIEW_COUNT = 2000
#: Characters of a name (a run, a repository, a dataset, a checkpoint in the store).
MAX_NAME_CHARS = 200
#: Trials (cells x seeds) of one study started from the app: each trial is a whole training
#: run, so a grid typed in the page multiplies work; the shipped studies have at most 8.
MAX_STUDY_TRIALS = 64

# -- models built from a form or from someone else's config.json ------------------------------

#: Parameters of a model built from the app's Train form or a checkpoint's config: 200 M
#: parameters (800 MB in float32) is more than any model the shipped presets describe
#: except on purpose; GPT-2 small has 124 M.
MAX_PARAMETERS = 200_000_000

# -- files read from a checkpoint or a download --------------------------------------------

#: A config.json or tokenizer.json larger than this was not written by archzoo.
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Nesting depth of any JSON archzoo reads (its own files nest a few levels).
MAX_JSON_DEPTH = 32
#: Digits of an integer in a JSON file (Python refuses more than 4300; ours need far fewer).
MAX_JSON_INT_DIGITS = 30
#: Bytes a downloaded or gzipped data file may expand to when read.
MAX_DECOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024

# -- the app's door ------------------------------------------------------------------------

#: Bytes of one HTTP request's body (an upload's file is within Gradio's own 20 MB limit;
#: a text request within MAX_TEXT_BYTES, even written with JSON's escapes).
MAX_REQUEST_BYTES = 32 * 1024 * 1024

#: Failed sign-ins one client may make within LOGIN_WINDOW_S before it must wait.
LOGIN_FAILURES = 5
LOGIN_WINDOW_S = 60.0
#: Seconds every failed sign-in waits before it is answered.
LOGIN_FAILURE_DELAY_S = 0.5


def check_count(what: str, value: int, limit: int, *, hint: str = "") -> int:
    """``value`` if it is within ``limit``, else a :class:`LimitError` naming both."""
    if value > limit:
        raise LimitError(f"{what}: {value:,} is more than the limit of {limit:,}" + (f"; {hint}" if hint else ""))
    return value


def check_parameters(count: int, owner: str) -> int:
    """A model's planned parameter count, refused above :data:`MAX_PARAMETERS` before it is built."""
    if count > MAX_PARAMETERS:
        raise LimitError(
            f"{owner} would make a model of {count:,} parameters, more than the limit of {MAX_PARAMETERS:,}: "
            "it is not built; choose fewer or narrower layers"
        )
    return count


def parse_json(text: str | bytes, source: str) -> object:
    """JSON from a file someone else may have written, within the limits above: its size,
    its nesting depth, and the digits of its integers.  Every failure is a
    :class:`LimitError` (or ``ValueError`` kin) naming ``source``, never a RecursionError."""
    import json

    if len(text) > MAX_JSON_BYTES:
        raise LimitError(f"{source} is larger than {MAX_JSON_BYTES // 2**20} MiB; it is not read")

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
            raise LimitError(f"{source} holds an integer of {len(digits):,} digits; at most {MAX_JSON_INT_DIGITS}")
        return int(digits)

    try:
        data = json.loads(text, parse_int=integer)
    except RecursionError:
        raise LimitError(f"{source} nests deeper than {MAX_JSON_DEPTH} levels; it is not read") from None
    except UnicodeDecodeError as exc:
        raise LimitError(f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise LimitError(f"{source} is not valid JSON ({exc})") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise LimitError(f"{source} nests deeper than {MAX_JSON_DEPTH} levels; it is not read")
    return data


def _depth(value: object) -> int:
    """The nesting depth of parsed JSON, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def check_text_request(text: str, what: str = "the text") -> str:
    """A block of text a person sent (one example a line), within :data:`MAX_TEXT_BYTES` and
    :data:`MAX_TEXT_LINES`; measured before it is split or read."""
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_TEXT_BYTES else len(text)
    if size > MAX_TEXT_BYTES:
        raise LimitError(f"{what} is {size:,} bytes, more than the limit of {MAX_TEXT_BYTES:,}: send less at a time")
    lines = text.count("\n") + 1
    if lines > MAX_TEXT_LINES:
        raise LimitError(f"{what} has {lines:,} lines, more than the limit of {MAX_TEXT_LINES:,}: send fewer at a time")
    return text


def check_top_k(top_k: object) -> int:
    """How many classes to show: a whole number from 1 to :data:`MAX_TOP_K`."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise LimitError(f"top-k must be a whole number from 1 to {MAX_TOP_K}, not {top_k!r}")
    return top_k


def check_image_size(width: int, height: int, what: str = "the image") -> None:
    """An image's size, checked from its header before its pixels are decoded."""
    if width * height > MAX_IMAGE_PIXELS:
        raise LimitError(
            f"{what} is {width:,} x {height:,} pixels, more than the limit of {MAX_IMAGE_PIXELS:,} pixels: "
            "send a smaller image"
        )
