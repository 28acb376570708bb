"""`gridctl categories`: the 大类/小类 table (list it, add or change one, retire one). Data goes to stdout, messages
to stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from core.categories import MAJOR, MINOR, CategoryEntry, is_major
from dispatch.cli_support import console, fail, with_pool
from dispatch.errors import NotFound
from dispatch.registry import categories_store
from dispatch.registry.notify import announce
from dispatch.settings import CommonSettings

categories_app = typer.Typer(help="Event categories: 大类 (2 digits) and their 小类 (4 digits).", no_args_is_help=True)
Code = Annotated[str, typer.Argument(help="大类 (2 digits) or 小类 (4 digits, the first two its 大类's)")]
By = Annotated[str, typer.Option(help="who makes the change (recorded)")]


@categories_app.command("list")
def categories_list() -> None:
    """The table: each 大类, then its 小类 (retired ones marked)."""
    for e in with_pool(categories_store.load_table).entries:
        indent = "" if is_major(e.code) else "  "
        print(f"{indent}{e.code}  {e.name_zh}  {e.name_en}{'' if e.active else '  (retired)'}")


@categories_app.command("set")
def categories_set(
    code: Code,
    name_zh: Annotated[str, typer.Option("--zh", help="Chinese name")],
    name_en: Annotated[str, typer.Option("--en", help="English name")],
    by: By,
    position: Annotated[int, typer.Option(min=0, max=100_000)] = 0,
    retired: Annotated[bool, typer.Option(help="closed to new reports")] = False,
) -> None:
    """Add a category or change one; the stream processors reload at once."""
    if not (MAJOR.match(code) or MINOR.match(code)):
        fail(f"code {code}: 2 digits (大类) or 4 digits (小类)")
    if not name_zh.strip() or not name_en.strip():
        fail("both names are needed")
    entry = CategoryEntry(code, name_zh.strip(), name_en.strip(), position, not retired)
    try:
        with_pool(lambda pool: categories_store.set_category(pool, entry, by))
    except NotFound as exc:
        fail(str(exc))
    announce(CommonSettings(), "rules", 0, f"category {code} set by {by}")
    console.print(f"[green]{code} {entry.name_zh}{'' if entry.active else ' (retired)'}[/green]")
