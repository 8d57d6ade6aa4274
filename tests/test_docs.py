"""The backend authors' guide quotes the example plugin; the quotes must not rot."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "writing-a-backend.md"
PLUGIN = ROOT / "tests" / "plugins" / "mytensor_minimal"


def _code_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)


def _plugin_sources() -> str:
    files = [p for p in PLUGIN.rglob("*") if p.suffix in {".py", ".toml", ".md"}]
    return "\n".join(p.read_text() for p in files)


@pytest.mark.parametrize("index", range(len(_code_blocks(GUIDE.read_text()))))
def test_guide_code_block_is_quoted_from_the_plugin(index: int) -> None:
    language, block = _code_blocks(GUIDE.read_text())[index]
    assert block.strip() in _plugin_sources(), (
        f"code block {index} ({language}) of docs/writing-a-backend.md is not a verbatim "
        f"excerpt of tests/plugins/mytensor_minimal; update the guide:\n{block}"
    )


def test_readme_links_the_guide() -> None:
    assert "docs/writing-a-backend.md" in (ROOT / "README.md").read_text()


README = ROOT / "README.md"


PYTHON_BLOCKS = [
    block for language, block in _code_blocks(README.read_text()) if language == "python"
]


@pytest.mark.parametrize(
    "block", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))]
)
def test_readme_python_examples_run(block: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples may write files
    exec(compile(block, "README.md", "exec"), {})


def test_op_table_is_generated_from_the_records() -> None:
    from mytensor.core.primitives.table import render

    current = (ROOT / "docs" / "ops.md").read_text()
    assert current == render(), (
        "docs/ops.md is out of date with mytensor/core/primitives; regenerate it with "
        "`python -m mytensor.core.primitives.table > docs/ops.md`"
    )


def test_op_table_holds_every_elementwise_op_and_its_definition() -> None:
    from mytensor.backends import spec
    from mytensor.core.primitives import scalar

    text = (ROOT / "docs" / "ops.md").read_text()
    for op in spec.MAP_OPS + spec.ZIP_OPS + spec.OPTIONAL_MAP_OPS + spec.OPTIONAL_ZIP_OPS:
        assert f"| `{op}` |" in text and f"### `{op}`" in text, op
    assert "def _divmod(x, y):" in text  # a helper the definitions call is shown with them
    assert f"_EXP_MAX = {scalar._EXP_MAX!r}" in text
