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
