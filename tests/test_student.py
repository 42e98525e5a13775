"""The student-version generator: stubs in place of solutions, and never a destroyed source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gancourse.exercises.student import (
    SolutionMarkerError,
    main,
    make_student_notebook,
    strip_solutions,
)

REPO = Path(__file__).resolve().parents[1]

SOLUTION_CELL = """\
def optimal_discriminator(p_data, p_g):
    \"\"\"Return D*(x) = p_data / (p_data + p_g).\"\"\"
    ### BEGIN SOLUTION
    total = p_data + p_g
    return p_data / total
    ### END SOLUTION"""

STUDENT_CELL = """\
def optimal_discriminator(p_data, p_g):
    \"\"\"Return D*(x) = p_data / (p_data + p_g).\"\"\"
    # YOUR CODE HERE
    raise NotImplementedError()"""


# --- strip_solutions on hand-written sources -------------------------------------------------

def test_block_replaced_by_stub_at_marker_indentation():
    assert strip_solutions(SOLUTION_CELL) == STUDENT_CELL


def test_several_blocks_at_different_indentations():
    source = "\n".join([
        "x = 1",
        "### BEGIN SOLUTION",
        "y = 2",
        "### END SOLUTION",
        "class A:",
        "    def f(self):",
        "        ### BEGIN SOLUTION",
        "        return 3",
        "        ### END SOLUTION",
        "z = 4",
    ])
    expected = "\n".join([
        "x = 1",
        "# YOUR CODE HERE",
        "raise NotImplementedError()",
        "class A:",
        "    def f(self):",
        "        # YOUR CODE HERE",
        "        raise NotImplementedError()",
        "z = 4",
    ])
    assert strip_solutions(source) == expected


def test_trailing_whitespace_on_markers_is_accepted_and_trailing_newline_kept():
    source = "def f():\n    ### BEGIN SOLUTION  \n    return 1\n    ### END SOLUTION\t\n"
    assert strip_solutions(source) == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def test_tab_indentation_is_copied():
    source = "def f():\n\t### BEGIN SOLUTION\n\treturn 1\n\t### END SOLUTION"
    assert strip_solutions(source) == "def f():\n\t# YOUR CODE HERE\n\traise NotImplementedError()"


def test_source_without_markers_is_unchanged():
    source = "import torch\n# BEGIN SOLUTION is only a marker with three hashes\nprint('### BEGIN SOLUTION')\n"
    assert strip_solutions(source) == source


def test_empty_solution_block_still_gets_a_stub():
    assert strip_solutions("### BEGIN SOLUTION\n### END SOLUTION") == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_stubbed_function_raises_not_implemented():
    namespace: dict = {}
    exec(strip_solutions(SOLUTION_CELL), namespace)
    with pytest.raises(NotImplementedError):
        namespace["optimal_discriminator"](1.0, 1.0)


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("a = 1\n### BEGIN SOLUTION\nb = 2", 2, "never closed"),
        ("a = 1\n### END SOLUTION", 2, "without a matching"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", 2, "nested"),
        ("### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", 3, "without a matching"),
    ],
)
def test_unbalanced_or_nested_markers_raise_with_line(source, line, words):
    with pytest.raises(SolutionMarkerError, match=f"line {line}:.*{words}"):
        strip_solutions(source)


def test_non_string_source_is_a_type_error():
    with pytest.raises(TypeError, match="must be a str"):
        strip_solutions(["### BEGIN SOLUTION"])  # type: ignore[arg-type]


# --- notebooks ------------------------------------------------------------------------------

def _solution_notebook() -> nbformat.NotebookNode:
    """Return a small notebook with one exercise and stored outputs, as an instructor might save it."""
    cells = [
        new_markdown_cell("# Chapter 0: Test\n\n### BEGIN SOLUTION\nmarkdown is left alone"),
        new_code_cell("import math", execution_count=1),
        new_code_cell(SOLUTION_CELL, execution_count=2,
                      outputs=[new_output("stream", name="stdout", text="solved\n")],
                      metadata={"execution": {"iopub.execute_input": "2026-01-01T00:00:00Z"}, "tags": ["keep"]}),
        new_code_cell("check_optimal_discriminator(optimal_discriminator)", execution_count=3),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def test_make_student_notebook_strips_and_clears_without_touching_the_input():
    nb = _solution_notebook()
    student = make_student_notebook(nb)
    assert student.cells[2].source == STUDENT_CELL
    assert student.cells[0].source == nb.cells[0].source  # markdown cells are not code: untouched
    for cell in student.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
    assert "execution" not in student.cells[2].metadata and student.cells[2].metadata["tags"] == ["keep"]
    # The input notebook is the instructor's: it must come back unchanged.
    assert nb.cells[2].source == SOLUTION_CELL and nb.cells[2].execution_count == 2 and nb.cells[2].outputs
    nbformat.validate(student)


def test_make_student_notebook_error_names_notebook_and_cell():
    nb = _solution_notebook()
    nb.cells[3].source = "### END SOLUTION"
    with pytest.raises(SolutionMarkerError, match=r"ch0\.ipynb: cell 3: line 1"):
        make_student_notebook(nb, name="ch0.ipynb")


# --- the command line -----------------------------------------------------------------------

@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Return a folder with two solution notebooks and one file that is not a notebook."""
    src = tmp_path / "notebooks"
    src.mkdir()
    nbformat.write(_solution_notebook(), src / "01_one.ipynb")
    two = _solution_notebook()
    two.cells[1].source = "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"  # a second exercise
    nbformat.write(two, src / "02_two.ipynb")
    (src / "notes.txt").write_text("not a notebook")
    (src / "sub").mkdir()
    nbformat.write(_solution_notebook(), src / "sub" / "03_nested.ipynb")  # not recursive: ignored
    return src


def test_cli_folder_end_to_end(course: Path, tmp_path: Path, capsys):
    before = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    dest = tmp_path / "student"
    assert main(["make-student", str(course), str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == ["01_one.ipynb", "02_two.ipynb"]
    one = nbformat.read(dest / "01_one.ipynb", as_version=4)
    two = nbformat.read(dest / "02_two.ipynb", as_version=4)
    assert one.cells[2].source == STUDENT_CELL
    assert two.cells[1].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert all(c.outputs == [] and c.execution_count is None for c in one.cells + two.cells if c.cell_type == "code")
    out = capsys.readouterr().out
    assert "01_one.ipynb: 1 exercise stripped" in out and "02_two.ipynb: 2 exercises stripped" in out
    assert "Wrote 2 student notebooks (3 exercises stripped)" in out
    assert {p: p.read_bytes() for p in course.rglob("*") if p.is_file()} == before  # sources untouched
    # Running it again over unchanged student copies is harmless: the same files are written.
    assert main(["make-student", str(course), str(dest)]) == 0


def test_cli_never_overwrites_a_students_work(course: Path, tmp_path: Path, capsys):
    dest = tmp_path / "student"
    assert main(["make-student", str(course), str(dest)]) == 0
    answered = nbformat.read(dest / "01_one.ipynb", as_version=4)
    answered.cells[2].source = answered.cells[2].source.replace("raise NotImplementedError()", "return 42")
    nbformat.write(answered, dest / "01_one.ipynb")
    work = (dest / "01_one.ipynb").read_bytes()
    capsys.readouterr()
    assert main(["make-student", str(course), str(dest)]) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite 1 existing notebook" in err and "01_one.ipynb" in err and "--overwrite" in err
    assert (dest / "01_one.ipynb").read_bytes() == work  # the answer is still there
    assert main(["make-student", str(course), str(dest), "--overwrite"]) == 0  # asked for explicitly
    assert "return 42" not in (dest / "01_one.ipynb").read_text()


@pytest.mark.parametrize("marker", ["###BEGIN SOLUTION", "## BEGIN SOLUTION", "### Begin Solution",
                                    "### BEGIN SOLUTIONS", "# END SOLUTION", "### END_SOLUTION"])
def test_near_miss_markers_are_errors_naming_the_cell(course: Path, tmp_path: Path, capsys, marker):
    nb = nbformat.read(course / "02_two.ipynb", as_version=4)
    nb.cells[1].source = f"{marker}\nsecret = 1\n"
    nbformat.write(nb, course / "02_two.ipynb")
    dest = tmp_path / "student"
    assert main(["make-student", str(course), str(dest)]) == 1
    err = capsys.readouterr().err
    assert "02_two.ipynb: cell 1: line 1" in err and "looks like a solution marker" in err
    assert not dest.exists()  # the solution did not ship


def test_cli_single_notebook_to_file_and_to_folder(course: Path, tmp_path: Path):
    out_file = tmp_path / "mine.ipynb"
    assert main(["make-student", str(course / "01_one.ipynb"), str(out_file)]) == 0
    assert nbformat.read(out_file, as_version=4).cells[2].source == STUDENT_CELL
    folder = tmp_path / "handout"
    folder.mkdir()
    assert main(["make-student", str(course / "01_one.ipynb"), str(folder)]) == 0
    assert (folder / "01_one.ipynb").is_file()


@pytest.mark.parametrize("dest", [".", "inner", "./inner/deeper"])
def test_cli_refuses_destination_inside_source_folder(course: Path, dest: str, capsys):
    before = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    assert main(["make-student", str(course), str(course / dest)]) == 1
    assert "refusing" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in course.rglob("*") if p.is_file()} == before


def test_cli_refuses_to_overwrite_a_notebook_with_itself(course: Path, capsys):
    before = (course / "01_one.ipynb").read_bytes()
    assert main(["make-student", str(course / "01_one.ipynb"), str(course / "01_one.ipynb")]) == 1
    assert "refusing" in capsys.readouterr().err
    assert (course / "01_one.ipynb").read_bytes() == before


def test_cli_refuses_to_overwrite_another_solution_notebook(course: Path, capsys):
    before = (course / "02_two.ipynb").read_bytes()
    assert main(["make-student", str(course / "01_one.ipynb"), str(course / "02_two.ipynb")]) == 1
    assert "contains `### BEGIN SOLUTION`" in capsys.readouterr().err
    assert (course / "02_two.ipynb").read_bytes() == before


def test_cli_unbalanced_markers_write_nothing(course: Path, tmp_path: Path, capsys):
    broken = nbformat.read(course / "02_two.ipynb", as_version=4)
    broken.cells[3].source = "### BEGIN SOLUTION\nforgot to close"
    nbformat.write(broken, course / "02_two.ipynb")
    dest = tmp_path / "student"
    assert main(["make-student", str(course), str(dest)]) == 1
    err = capsys.readouterr().err
    assert "02_two.ipynb: cell 3: line 1" in err and "never closed" in err
    assert not dest.exists()  # 01_one.ipynb was fine, but nothing is written when any notebook fails


def test_cli_bad_inputs(tmp_path: Path, capsys):
    assert main(["make-student", str(tmp_path / "missing"), str(tmp_path / "out")]) == 1
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["make-student", str(empty), str(tmp_path / "out")]) == 1
    assert "no *.ipynb" in capsys.readouterr().err


def test_module_entry_point_runs(course: Path, tmp_path: Path):
    """``python -m gancourse.exercises make-student`` works as a command, from the repo root."""
    dest = tmp_path / "student"
    done = subprocess.run(
        [sys.executable, "-m", "gancourse.exercises", "make-student", str(course), str(dest)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (dest / "01_one.ipynb").is_file() and "Wrote 2 student notebooks" in done.stdout
    helped = subprocess.run([sys.executable, "-m", "gancourse.exercises", "make-student", "--help"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0 and "BEGIN SOLUTION" in helped.stdout


def test_a_students_endless_loop_is_stopped_with_a_clear_verdict(monkeypatch):
    import time

    from gancourse.exercises import _check
    from gancourse.exercises.ch02 import check_sample_noise

    monkeypatch.setattr(_check, "TIME_LIMIT_S", 0.5)

    def sample_noise(n, z_dim):
        while True:
            pass

    started = time.perf_counter()
    with pytest.raises(_check.ExerciseError, match=r"sample_noise ran for more than 0.5 s: is there a loop"):
        check_sample_noise(sample_noise)
    assert time.perf_counter() - started < 5
