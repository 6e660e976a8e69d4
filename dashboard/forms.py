"""The control page's forms: risk limits (validated by the model) and the manual order ticket."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.selectors import engine_symbols
from ledger.models import _RISK_FIELDS, RiskLimitSet


class RiskLimitsForm(forms.ModelForm):
    """Every live limit; `RiskLimitSet.clean()` checks the ranges and its errors land on the
    fields."""

    class Meta:
        model = RiskLimitSet
        fields = list(_RISK_FIELDS)


class OrderTicketForm(forms.Form):
    """A manual order, sent to the engine, which runs the same pre-trade risk as for
    strategies."""

    symbol = forms.ChoiceField(choices=())
    side = forms.ChoiceField(choices=[("BUY", "Buy"), ("SELL", "Sell")])
    qty = forms.IntegerField(min_value=1, label="Quantity")
    price = forms.DecimalField(
        min_value=0, decimal_places=4, max_digits=12, initial=0, help_text="dollars; 0 = market"
    )
    tif = forms.ChoiceField(
        choices=[("DAY", "DAY"), ("IOC", "IOC"), ("GTC", "GTC")], initial="DAY", label="TIF"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["symbol"].choices = [(s, s) for s in engine_symbols()]

    def command_args(self) -> dict[str, Any]:
        """The cleaned ticket as `submit_order` arguments."""
        data = self.cleaned_data
        price = data["price"]
        return {
            "symbol": data["symbol"],
            "side": data["side"],
            "qty": data["qty"],
            "price": int(price) if price == int(price) else float(price),
            "tif": data["tif"],
        }
