"""FOCUS 1.2 rows of the demo AWS bill: GPU nodes, cloud services, tax, credit.

Rows use the FOCUS column names (PascalCase) and Python values; files.py turns
them into an export file. Amounts are what AWS bills: hourly price x 24 for a
GPU node, catalogue daily cost with noise for a service.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sandbox.org import DemoOrg, days_between

FOCUS_VERSION = "1.2"

# FOCUS 1.2 columns, in the alphabetical order AWS Data Exports write them.
COLUMNS = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
)

AWS = "Amazon Web Services, Inc."
PROVIDER = "AWS"
REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}
SUBCATEGORIES = {
    "Amazon Simple Storage Service": "Object Storage",
    "Amazon Relational Database Service": "Relational Databases",
    "Amazon Elastic Kubernetes Service": "Containers",
    "Amazon CloudWatch": "Observability",
    "AWS Data Transfer": "Network Traffic",
    "Amazon OpenSearch Service": "Search",
}
TAX_RATE = Decimal("0.06")
CREDIT_SHARE_OF_GPU = Decimal("0.05")  # promotional credit on GPU compute
CENT = Decimal("0.000001")


def _ts(d: date) -> datetime:
    return datetime.combine(d, time(0))


def _month_bounds(d: date) -> tuple[date, date]:
    start = d.replace(day=1)
    last = calendar.monthrange(d.year, d.month)[1]
    return start, start.replace(day=last) + timedelta(days=1)


def _short_hash(*parts: object, n: int = 12) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:n]


def _base(org: DemoOrg, day: date) -> dict[str, Any]:
    cluster = org.gpu_cluster
    p_start, p_end = _month_bounds(day)
    row = dict.fromkeys(COLUMNS)
    row |= {
        "BillingAccountId": cluster["billing_account_id"],
        "BillingAccountName": "Northwind Labs",
        "BillingAccountType": "Billing Account",
        "BillingCurrency": org.currency,
        "BillingPeriodStart": _ts(p_start),
        "BillingPeriodEnd": _ts(p_end),
        "ChargePeriodStart": _ts(day),
        "ChargePeriodEnd": _ts(day + timedelta(days=1)),
        # The issuer is the provider itself (no marketplace reseller): FOCUS requires
        # BilledCost 0 where they differ (focus-validator BilledCost-C-005-C).
        "InvoiceIssuerName": PROVIDER,
        "ProviderName": PROVIDER,
        "PublisherName": AWS,
        "PricingCurrency": org.currency,
        "RegionId": cluster["region_id"],
        "RegionName": REGION_NAMES.get(cluster["region_id"], cluster["region_id"]),
        "SubAccountId": cluster["sub_account_id"],
        "SubAccountName": "northwind-ml",
        "SubAccountType": "AWS Account",
    }
    return row


def _usage(row: dict, *, cost: Decimal, unit_price: Decimal, quantity: Decimal, unit: str) -> dict:
    return row | {
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "PricingCategory": "Standard",
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ListCost": cost,
        "ContractedCost": cost,
        "PricingCurrencyEffectiveCost": cost,
        "ListUnitPrice": unit_price,
        "ContractedUnitPrice": unit_price,
        "PricingCurrencyListUnitPrice": unit_price,
        "PricingCurrencyContractedUnitPrice": unit_price,
        "PricingQuantity": quantity,
        "PricingUnit": unit,
        "ConsumedQuantity": quantity,
        "ConsumedUnit": unit,
    }


def instance_id(org: DemoOrg, host: str) -> str:
    """The EC2 instance id of a GPU node (its FOCUS ResourceId and kube provider_id)."""
    return f"i-0{_short_hash(org.seed, host, n=16)}"


def _instance_row(
    org: DemoOrg,
    day: date,
    host: str,
    instance_type: str,
    hourly_price: float,
    tags: dict[str, str],
) -> dict[str, Any]:
    """One EC2 instance-day as AWS's own FOCUS export bills it: the instance id, no name.

    The warehouse finds the node through kube_node_info's provider_id (cluster nodes)
    or the gpu_node_inventory seed (hosts outside Kubernetes).
    """
    price = Decimal(str(hourly_price))
    row = _usage(
        _base(org, day), cost=price * 24, unit_price=price, quantity=Decimal(24), unit="Hours"
    )
    return row | {
        "AvailabilityZone": f"{org.gpu_cluster['region_id']}a",
        "ChargeDescription": f"${price} per On Demand Linux {instance_type} Instance Hour",
        "ResourceId": instance_id(org, host),
        "ResourceName": "",
        "ResourceType": "Instance",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "ServiceSubcategory": "Virtual Machines",
        "SkuId": f"EC2-{instance_type.upper()}",
        "SkuMeter": f"BoxUsage:{instance_type}",
        "SkuPriceId": f"EC2-{instance_type.upper()}.ONDEMAND",
        "Tags": json.dumps(tags),
    }


def gpu_node_rows(org: DemoOrg, day: date) -> list[dict[str, Any]]:
    cluster = org.gpu_cluster
    return [
        _instance_row(
            org,
            day,
            host,
            nt["instance_type"],
            nt["hourly_price"],
            {"cluster": cluster["cluster"], "node": host, "owner": cluster["owner_team"]},
        )
        for nt in cluster["node_types"]
        for host in nt["nodes"]
    ]


def service_rows(org: DemoOrg, day: date) -> list[dict[str, Any]]:
    rows = []
    for s in org.cloud_services:
        cost = Decimal(str(s["daily_cost"] * org.noise(day, f"service:{s['sku_id']}")))
        cost = cost.quantize(CENT)
        if s.get("shared"):
            tags = {"shared": "true"}
        else:
            tags = {"team": s["team"], "feature": s["feature"], "env": s["environment"]}
        row = _usage(_base(org, day), cost=cost, unit_price=cost, quantity=Decimal(1), unit="Days")
        row |= {
            "ChargeDescription": f"{s['service_name']} usage",
            "ResourceId": f"arn:aws:{s['sku_id'].lower()}:{org.gpu_cluster['region_id']}:"
            f"{org.gpu_cluster['sub_account_id']}:{_short_hash(s['sku_id'])}",
            "ResourceName": s["sku_id"].lower(),
            "ResourceType": s["service_category"],
            "ServiceCategory": s["service_category"],
            "ServiceName": s["service_name"],
            "ServiceSubcategory": SUBCATEGORIES.get(s["service_name"]),
            "SkuId": s["sku_id"],
            "SkuMeter": s["sku_id"],
            "SkuPriceId": f"{s['sku_id']}.ONDEMAND",
            "Tags": json.dumps(tags),
        }
        rows.append(row)
    return rows


def monthly_rows(org: DemoOrg, day: date) -> list[dict[str, Any]]:
    """Tax and Credit lines, on the last day of the month.

    They are computed over the whole month's usage, and carry a one-day charge
    period (as AWS does for credits) so a daily extraction window selects them.
    """
    p_start, p_end = _month_bounds(day)
    if day != p_end - timedelta(days=1):
        return []
    usage = [r for d in days_between(p_start, p_end) for r in usage_rows(org, d)]
    total = sum((r["BilledCost"] for r in usage), Decimal(0))
    gpu = sum(
        (r["BilledCost"] for r in usage if r["ServiceSubcategory"] == "Virtual Machines"),
        Decimal(0),
    )
    tax = (total * TAX_RATE).quantize(CENT)
    credit = -(gpu * CREDIT_SHARE_OF_GPU).quantize(CENT)
    rows = []
    for category, amount, description, service in (
        ("Tax", tax, "Sales tax", "Tax"),
        ("Credit", credit, "AWS Promotional Credits", "Amazon Elastic Compute Cloud"),
    ):
        row = _base(org, day) | {
            "ChargeCategory": category,
            "ChargeFrequency": "One-Time",
            "ChargeDescription": f"{description} {p_start:%Y-%m}",
            "BilledCost": amount,
            "EffectiveCost": amount,
            "ListCost": amount if category == "Tax" else Decimal(0),
            "ContractedCost": amount if category == "Tax" else Decimal(0),
            "PricingCurrencyEffectiveCost": amount,
            "PricingCategory": "Other",
            "ServiceCategory": "Other" if category == "Tax" else "Compute",
            "ServiceName": service,
        }
        rows.append(row)
    return rows


def gpu_box_rows(org: DemoOrg, day: date) -> list[dict[str, Any]]:
    """EC2 lines of the GPU boxes outside Kubernetes (`gpu_boxes`): billed like the nodes."""
    return [
        _instance_row(
            org,
            day,
            box["hostname"],
            box["instance_type"],
            box["hourly_price"],
            {"host": box["hostname"]},
        )
        for box in org.gpu_boxes
    ]


def usage_rows(org: DemoOrg, day: date) -> list[dict[str, Any]]:
    return gpu_node_rows(org, day) + gpu_box_rows(org, day) + service_rows(org, day)


def focus_rows(org: DemoOrg, day: date) -> list[dict[str, Any]]:
    """Every FOCUS row charged on `day` (cached per day)."""
    key = ("focus", day)
    if key not in org.cache:
        rows = usage_rows(org, day) + monthly_rows(org, day)
        invoice = f"INV-{day:%Y%m}-{_short_hash(org.seed, f'{day:%Y-%m}', n=8).upper()}"
        org.cache[key] = [r | {"InvoiceId": invoice} for r in rows]
    return org.cache[key]
