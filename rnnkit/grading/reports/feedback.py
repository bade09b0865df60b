"""Feedback HTML for a whole class: nbgrader's feedback exporter, with the shared work done once.

nbgrader's generate_feedback makes a new HTMLExporter for every notebook. Each one compiles
the Jinja templates again, and highlights and renders again the code and Markdown cells that
all submissions of an assignment share (the locked cells, the instructions). In one grading
process these results never change, so FeedbackExporter keeps them:

- compiled templates, in a Jinja bytecode cache shared by every exporter of the process;
- highlighted code and rendered Markdown, in bounded caches keyed by everything they depend
  on (the text, the language, the notebook's folder for Markdown images, the exporter's
  options).

The HTML it writes is nbgrader's, byte for byte (tests/test_pipeline.py compares them). `rnnkit grade` uses it
through nbgrader's own setting, GenerateFeedback.exporter_class; plain `nbgrader
generate_feedback` is untouched.
"""
import collections
import json

from jinja2 import BytecodeCache, pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML

CACHED_TEXTS = 4096     # highlighted or rendered cells kept, per kind (locked cells repeat)


class _Templates(BytecodeCache):
    """Compiled Jinja templates in memory, for every exporter of this process."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


class _Memo:
    """A bounded least-recently-used cache of text results."""

    def __init__(self, size=CACHED_TEXTS):
        self.size, self.items = size, collections.OrderedDict()

    def get(self, key, compute):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = self.items[key] = compute()
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


_TEMPLATES = _Templates()
_HIGHLIGHTED = _Memo()
_RENDERED = _Memo()


def _memo_highlight(highlight):
    """nbconvert's highlight_code filter (Highlight2HTML), remembering what it produced.

    Its result depends on the source, the language (the notebook's lexer unless named), the
    cell's `magics_language` and the formatter options; nothing else is read.
    """
    options = repr(sorted(getattr(highlight, "extra_formatter_options", {}).items()))
    lexer = getattr(highlight, "pygments_lexer", None)

    def run(source, language=None, metadata=None):
        magics = metadata.get("magics_language") if metadata else None
        key = (lexer, options, source, language, magics)
        return _HIGHLIGHTED.get(key, lambda: highlight(source, language, metadata))

    return run


class FeedbackExporter(HTMLExporter):
    """HTMLExporter (with nbgrader's feedback template) that reuses compiled templates,
    highlighted code and rendered Markdown across the notebooks of one process."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _TEMPLATES
        return environment

    def register_filter(self, name, jinja_filter):
        if name == "highlight_code" and isinstance(jinja_filter, Highlight2HTML):
            jinja_filter = _memo_highlight(jinja_filter)
        return super().register_filter(name, jinja_filter)

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        attachments = cell.get("attachments", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (source, path, json.dumps(attachments, sort_keys=True, default=str) if attachments else "",
               self.embed_images, self.anchor_link_text, self.exclude_anchor_links,
               repr(sorted(self.lexer_options.items())))
        return _RENDERED.get(key, lambda: HTMLExporter.markdown2html(self, context, source))
