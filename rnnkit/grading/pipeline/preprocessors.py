"""nbgrader preprocessors of the kit, named in autograde/nbgrader_config.py.

DropOrphanMetadata: nbgrader's DeduplicateIds empties the `nbgrader` metadata of a graded cell
pasted twice, and OverwriteCells (with add_missing_cells) then fails on a cell whose `nbgrader`
metadata has no grade_id ("KeyError: 'grade_id'"), as it does on such metadata typed by hand. The
cell is ungraded either way: dropping the leftover metadata lets the notebook be graded.
"""
from nbgrader.preprocessors import NbGraderPreprocessor


class DropOrphanMetadata(NbGraderPreprocessor):
    """Remove `nbgrader` cell metadata that names no grade_id (left by DeduplicateIds or a student)."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader")
        if meta is not None and (not isinstance(meta, dict) or "grade_id" not in meta):
            del cell.metadata["nbgrader"]
        return cell, resources
