"""The options of an encoder training run, declared once: each field carries its help, label, bounds and form group
(``recsys.options``), so the config of the trainers, the ``train encoder`` flags and the Training tab's form all
come from this one dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from recsys.options import bound_problems, option, subset
from recsys.training.attributes import FIELDS, check_fields
from recsys.training.heads import HeadTrainingConfig
from recsys.training.pair_sources import CATALOG_VIEWS, SOURCES, check_views
from recsys.training.tower_finetune import TowerTrainingConfig

LOG_Q_BY = ("type", "item")  # logQ by the sampling frequency of the item's type or of the item itself


@dataclass(frozen=True)
class EncoderRunOptions:
    """A training run's options. Each field's metadata (``recsys.options``) also makes its ``train encoder`` flag
    and, when it has a ``group``, its control in the Training tab (groups: main, data, loss, towers)."""

    epochs: int = option(8, help="passes over the training pairs", label="Epochs", minimum=1, group="main")
    batch_size: int = option(
        1024, help="pairs per step (the in-batch negatives)", label="Batch size", minimum=2, group="main"
    )
    lr: float = option(
        2e-3, help="learning rate of the heads (one-cycle schedule)", label="Learning rate", group="main"
    )
    temperature: float = option(
        0.07, help="initial softmax temperature, in (0, 1]", metavar="T", label="Temperature (initial)", group="loss"
    )
    learn_temperature: bool = option(
        True,
        help="learn the temperature (--fixed-temperature keeps it where it starts)",
        off_flag="--fixed-temperature",
        label="Learn the temperature",
        group="loss",
    )
    log_q: bool = option(
        False,
        help="logQ correction of in-batch negatives by sampling frequency (see --logq-by)",
        flag="--logq",
        label="logQ correction",
        group="main",
    )
    log_q_by: str = option(
        "type",
        choices=LOG_Q_BY,
        flag="--logq-by",
        label="logQ frequency by",
        info="the item's type (catalog pairs) or the item itself (click pairs)",
        help="sampling frequency of the item's type (catalog pairs hold each item once) or of the "
        "item itself (click pairs repeat popular items)",
        group="main",
    )
    tail_weight: float = option(
        0.0,
        help="loss weight per pair ∝ (1 / count of its type) ** A; 0 = off, 1 = full",
        metavar="A",
        minimum=0,
        label="Tail weight",
        info="loss ∝ 1/type count^w; 0 = off",
        slider=(0.0, 1.0, 0.1),
        group="main",
    )
    attribute_weight: float = option(
        0.5,
        help="weight of the multi-positive term: each type/colour/gender phrase against every item of that group "
        "in the batch (heads-only runs); 0 = off",
        metavar="L",
        minimum=0,
        label="Attribute term weight (type/colour/gender phrases ↔ their items; 0 = off)",
        group="loss",
    )
    attribute_fields: tuple[str, ...] = option(
        ("type",),
        choices=FIELDS,
        flag="--attribute-field",
        label="Attribute groups of that term",
        help="catalog attributes whose phrases the attribute term pulls toward their items",
        group="loss",
    )
    hard_negatives: int = option(
        0,
        help="per pair, mined from the index (serving version first, then the model in training)",
        metavar="K",
        minimum=0,
        label="Hard negatives per pair (mined from the index)",
        group="loss",
    )
    uniform_negatives: int = option(
        0,
        help="per batch, drawn uniformly from all catalog items for a side loss",
        metavar="M",
        minimum=0,
        label="Uniform negatives per batch (side loss)",
        group="loss",
    )
    uniform_weight: float = option(
        0.5,
        help="weight of the uniform-negative side loss",
        metavar="W",
        minimum=0,
        label="Weight of the uniform-negative loss",
        group="loss",
    )
    patience: int = option(
        2,
        help="early stopping: epochs without a better validation recall@10; 0 = off",
        metavar="P",
        minimum=0,
        label="Early-stopping patience (epochs; 0 = off)",
        group="loss",
    )
    sources: tuple[str, ...] = option(
        ("catalog",),
        choices=SOURCES,
        flag="--source",
        label="Training pairs",
        help="training pairs: catalog text-image pairs, logged query-click pairs, graded judgments (--judgments)",
        group="data",
        info="catalog: item text ↔ image · clicks: logged query ↔ clicked item · judgments: graded query ↔ item CSV",
    )
    catalog_views: tuple[str, ...] = option(
        CATALOG_VIEWS,
        choices=CATALOG_VIEWS,
        flag="--catalog-view",
        label="Catalog texts per item",
        help="texts of each catalog pair: the item's clip text (title, type, colour, gender) and its bare title",
        group="data",
        info="item: 'Navy shirt. Shirts, Navy Blue, Men' · title: 'Navy shirt', the shape of a shopper's query",
    )
    judgments_path: str | None = option(
        None,
        help="judgments CSV with columns query,item_id,relevance (the judgments source)",
        flag="--judgments",
        metavar="CSV",
    )
    min_relevance: float = option(
        3.0,
        help="judgments at or above this grade are positives",
        metavar="R",
        label="Min relevance of a positive judgment",
        group="data",
    )
    unfreeze_image_blocks: int = option(
        0,
        help="fine-tune the last N EfficientNet-Lite0 blocks end to end (meant for CUDA; slow on CPU)",
        metavar="N",
        minimum=0,
        maximum=16,
        label="Image blocks to unfreeze (of 16)",
        group="towers",
    )
    unfreeze_text_layers: int = option(
        0,
        help="fine-tune the last N MiniLM layers end to end (meant for CUDA; slow on CPU)",
        metavar="N",
        minimum=0,
        maximum=6,
        label="Text layers to unfreeze (of 6)",
        group="towers",
    )
    tower_lr: float = option(
        3e-5,
        help="learning rate of unfrozen tower layers (--lr stays the heads' rate)",
        label="Tower learning rate",
        group="towers",
    )
    hidden: int = option(1024, help="MLP width of the heads; 0 = linear", minimum=0)
    embed_dim: int = option(256, help="width of the joint space", minimum=1)
    seed: int = option(0, help="random seed")

    def __post_init__(self) -> None:
        problems = (
            bound_problems(self)
            + [
                msg
                for bad, msg in (
                    (self.lr <= 0, "learning rate must be positive"),
                    (not 0 < self.temperature <= 1, "temperature must be in (0, 1]"),
                    (self.log_q_by not in LOG_Q_BY, "logQ frequency must be by 'type' or 'item'"),
                    (not self.sources, "choose at least one training data source"),
                    (self.attribute_weight > 0 and not self.attribute_fields, "the attribute term needs a field"),
                    (any(s not in SOURCES for s in self.sources), f"sources must be among {', '.join(SOURCES)}"),
                    (
                        "judgments" in self.sources and not self.judgments_path,
                        "the judgments source needs a judgments file",
                    ),
                    (
                        self.tunes_towers and (self.hard_negatives or self.uniform_negatives),
                        "hard and uniform negatives are for heads-only runs (no tower unfreezing)",
                    ),
                )
                if bad
            ]
            + check_fields(self.attribute_fields)
            + check_views(self.catalog_views)
        )
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def tunes_towers(self) -> bool:
        return self.unfreeze_image_blocks > 0 or self.unfreeze_text_layers > 0

    def tower_config(self) -> TowerTrainingConfig:
        return subset(TowerTrainingConfig, self, head_lr="lr")

    def head_config(self) -> HeadTrainingConfig:
        return subset(HeadTrainingConfig, self)
