"""The page's words: every key the UI code hands to ``t`` has a Chinese entry, and the table holds no dead keys."""

from __future__ import annotations

import ast
from pathlib import Path

from recsys.options import specs
from recsys.training.run_options import EncoderRunOptions
from recsys.ui import i18n

UI_DIR = Path(i18n.__file__).resolve().parent


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` constants (``t(INTRO)`` names one)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def keys_in_code() -> set[str]:
    keys = set()
    for path in sorted(UI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_strings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant):
                keys.add(arg.value)
            elif isinstance(arg, ast.Name) and arg.id in constants:
                keys.add(constants[arg.id])
            elif path.name != "option_form.py":  # its keys are the options' labels: keys_in_forms
                raise AssertionError(f"{path.name}:{node.lineno}: t() takes a literal or a module constant")
    return keys


def keys_in_forms() -> set[str]:
    """The Training tab's form: labels and info lines come from the options dataclass."""
    keys = set()
    for spec in specs(EncoderRunOptions):
        if spec.option.group is not None:
            keys.add(spec.label)
            if spec.option.info:
                keys.add(spec.option.info)
    return keys


def test_every_key_has_chinese():
    missing = (keys_in_code() | keys_in_forms()) - set(i18n.chinese())
    assert not missing, f"add to recsys/ui/locales/zh.json: {sorted(missing)}"


def test_no_dead_keys():
    dead = set(i18n.chinese()) - keys_in_code() - keys_in_forms()
    assert not dead, f"no longer on the page: {sorted(dead)}"


def test_chinese_entries_are_chinese_and_keep_markdown():
    for key, text in i18n.chinese().items():
        assert text.strip(), key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), f"not translated: {key!r} -> {text!r}"
        assert key.startswith("#") == text.startswith("#"), f"heading level lost: {key!r}"


def test_table_serves_english_and_simplified_chinese_locales():
    table = i18n.translations().translations_dict
    assert table["en"]["Search"] == "Search"
    for locale in ("zh", "zh-CN"):
        assert table[locale]["Search"] == "搜索"
    assert str(i18n.t("Search")).startswith("__i18n__")  # what the page receives and translates
