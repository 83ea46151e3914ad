"""A validation split carved from the *training* history, so hyper-parameters never see evaluated orders.

Each user's last history order (their second-to-last order overall) becomes the validation target; the
orders before it are the validation history, and the fit lines lose every validation target order.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ValidationSplit:
    fit: pd.DataFrame  # fit lines without any validation target order
    history: pd.DataFrame  # every user's lines before their validation target
    targets: dict[int, frozenset]  # user -> product ids of the validation target order
    target_orders: frozenset  # order ids of the validation targets


def carve(fit: pd.DataFrame, histories: dict[int, pd.DataFrame]) -> ValidationSplit:
    lines = pd.concat(list(histories.values()), ignore_index=True) if histories else fit.iloc[:0]
    last = lines.groupby("user_id")["order_number"].transform("max")
    is_target = lines["order_number"] == last
    target = lines[is_target]
    target_orders = frozenset(target["order_id"].unique().tolist())
    targets = {int(u): frozenset(g["product_id"].tolist()) for u, g in target.groupby("user_id")}
    return ValidationSplit(
        fit=fit[~fit["order_id"].isin(target_orders)].reset_index(drop=True),
        history=lines[~is_target].reset_index(drop=True),
        targets=targets,
        target_orders=target_orders,
    )
