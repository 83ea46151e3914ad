"""Merchant tab, "Bulk upload": the format in the app (columns, which are required, an example row), a template CSV
to download, and the import report, which names every file it did not use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from recsys.accounts.principal import Principal
from recsys.catalog.bulk_files import CATALOG_SUFFIXES, TEMPLATE_CSV
from recsys.catalog.importer import ImportReport
from recsys.catalog.mapping import PRESETS
from recsys.config import Settings
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed
from recsys.ui.i18n import t
from recsys.ui.merchant_forms import uploaded_paths
from recsys.ui.render import esc

REJECT_COLUMNS = ["row", "id", "reasons"]
ZIP_SUFFIX = ".zip"
# (column, required, what it holds, the template's example): the default preset's columns (catalog/mapping.py).
BULK_COLUMNS = [
    ("id", True, "your id for the item; importing the same id again updates that item", "sku-001"),
    ("title", True, "plain text", "Navy linen shirt"),
    ("description", False, "plain text; line breaks are kept", "Relaxed fit, 100% linen"),
    ("brand", False, "plain text", "Acme"),
    ("category", False, 'levels joined by " > "', "Apparel > Topwear > Shirts"),
    ("price", False, "a number >= 0 with a dot for decimals (at most 2); empty means no price", "39.90"),
    ("currency", False, "a three-letter code; empty means USD", "USD"),
    ("images", False, "file names in the images zip, separated by ; or | (JSONL, Parquet: a list)", "sku-001.jpg"),
    ("reviews", False, "a JSON list of {rating 1-5, title, text} (JSONL, Parquet: a list)", '[{"rating": 5}]'),
]
HM_EXAMPLE = (
    "id=article_id\ntitle=prod_name\ndescription=detail_desc\n"
    "category=index_group_name,product_group_name,product_type_name\nimage_pattern={id}.jpg"
)


def format_help(settings: Settings) -> str:
    """The bulk format as the app shows it, with this server's limits."""
    rows = "\n".join(
        f"| `{name}` | {'**required**' if required else 'optional'} | {what} | `{example}` |"
        for name, required, what, example in BULK_COLUMNS
    )
    return f"""Upload **one catalog file** ({", ".join(CATALOG_SUFFIXES)}) and, if rows name images, **one images
zip**, together. CSV is UTF-8 with a header line; JSONL is one JSON object per line; Parquet is a table with these
column names.

| column | | what | example |
|---|---|---|---|
{rows}

Example CSV row: `sku-002,Canvas tote bag,,,Accessories > Bags,,,,` (only id and title given: no price, no images).
At most {settings.max_images_per_item} images per item and {settings.max_upload_bytes / 2**20:.0f} MiB per image;
the catalog file up to {settings.max_catalog_bytes / 2**20:.0f} MiB, the zip up to
{settings.max_zip_bytes / 2**20:.0f} MiB. A row with any problem is skipped and listed with its reasons; the other
rows are imported.

Other column names: pick a preset (`fashion` reads the Myntra `styles.csv`) or write overrides, one `field=column`
a line; several columns make a category path. An H&M-style `articles.parquet`, for example:
```
{HM_EXAMPLE}
```"""


def sort_uploads(files: Any) -> tuple[Path | None, Path | None, list[str], str]:
    """(catalog, images zip, names of the files that are neither, problem): one catalog and at most one zip."""
    catalogs, zips, ignored = [], [], []
    for path in map(Path, uploaded_paths(files)):
        suffix = path.suffix.lower()
        if suffix in CATALOG_SUFFIXES:
            catalogs.append(path)
        elif suffix == ZIP_SUFFIX:
            zips.append(path)
        else:
            ignored.append(path.name)
    problem = ""
    if not catalogs:
        problem = f"Choose a catalog file ({', '.join(CATALOG_SUFFIXES)})."
    elif len(catalogs) > 1:
        problem = f"Upload one catalog file at a time; got {', '.join(esc(p.name) for p in catalogs)}."
    elif len(zips) > 1:
        problem = f"Upload one images zip at a time; got {', '.join(esc(p.name) for p in zips)}."
    return (catalogs[0] if catalogs else None), (zips[0] if zips else None), ignored, problem


def _named(names: list[str], total: int | None = None) -> str:
    shown = ", ".join(f"`{esc(n)}`" for n in names)
    more = (total or len(names)) - len(names)
    return shown + (f" and {more:,} more" if more > 0 else "")


def ignored_report(uploads_ignored: list[str], report: ImportReport) -> str:
    """Every file the import did not use, by name: uploads, zip entries that are not images, unnamed zip images."""
    lines = []
    if uploads_ignored:
        lines.append(f"- not a catalog file or an images zip, ignored: {_named(uploads_ignored)}")
    if report.ignored_files:
        lines.append(f"- in the zip, not images, ignored: {_named(report.ignored_files)}")
    if report.unreferenced_image_count:
        lines.append(
            f"- in the zip, images no row names, not imported: "
            f"{_named(report.unreferenced_images, report.unreferenced_image_count)}"
        )
    return ("\n\n**Files not used:**\n" + "\n".join(lines)) if lines else ""


def bulk_import(
    service: CatalogService,
    actor: Principal,
    files: Any,
    preset: str,
    mapping: str,
    progress: gr.Progress | None = None,
) -> tuple[str, list[list[Any]]]:
    """(summary markdown, rejected rows) of importing the uploaded catalog and zip."""
    catalog, images_zip, uploads_ignored, problem = sort_uploads(files)
    if problem or catalog is None:
        ignored = f" (also ignored: {_named(uploads_ignored)})" if uploads_ignored else ""
        return f"Nothing was imported. {problem}{ignored}", []

    def report_progress(done: int, total: int, message: str) -> None:
        if progress is not None:
            progress((done, total), desc=message)

    try:
        report = service.import_bundle(
            actor,
            catalog,
            images_zip,
            preset=preset or "default",
            mapping_overrides=mapping or "",
            progress=report_progress,
        )
    except NotAllowed as exc:
        return esc(exc), []
    summary = f"**{esc(catalog.name)}**: {esc(report.summary())}" + ignored_report(uploads_ignored, report)
    rows = [[e.row, e.id, "; ".join(e.reasons)] for e in report.rejected]
    return summary, rows


def build(service: CatalogService, caller: Any, token: gr.State) -> None:
    """The "Bulk upload" components and events; ``caller(tok, profile)`` is the acting principal."""
    with gr.Accordion(t("Bulk format: columns, example, template"), open=True):
        gr.Markdown(format_help(service.settings), elem_id="bulk-format")
        gr.DownloadButton(str(t("Download the template CSV")), value=str(TEMPLATE_CSV), size="sm")
    files = gr.File(
        label=t("Catalog file and images zip"),
        file_count="multiple",
        file_types=[*CATALOG_SUFFIXES, ZIP_SUFFIX],
    )
    with gr.Row():
        preset = gr.Dropdown(label=t("Column preset"), choices=list(PRESETS), value="default")
        mapping = gr.Textbox(
            label=t("Column overrides (field=column, one per line)"), lines=2, placeholder="title=productDisplayName"
        )
    run = gr.Button(t("Import"), variant="primary")
    summary = gr.Markdown()
    rejected = gr.Dataframe(headers=REJECT_COLUMNS, label=t("Rejected rows"), interactive=False)

    def on_import(tok, files_, preset_name, overrides, progress=gr.Progress(), profile: gr.OAuthProfile | None = None):
        return bulk_import(service, caller(tok, profile), files_, preset_name, overrides, progress)

    run.click(
        on_import,
        [token, files, preset, mapping],
        [summary, rejected],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="import",  # one bulk import at a time; searches are not held up
    )
