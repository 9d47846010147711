"""A small hand-made blueprint with one data point of each common type (exports, HubSpot apply, CLI)."""

from __future__ import annotations

from graph.schemas import Blueprint, Company, DataPoint, ResolvedICP, Section, ValueOption


def small_blueprint() -> Blueprint:
    opts = [ValueOption(value="shopify", label="Shopify"), ValueOption(value="wix", label="Wix")]
    points = [
        DataPoint(key="employee_count", name="Employee count", description="Employees.", why="w",
                  value_type="integer", example="340", source_ids=["apollo"],
                  source_fields={"apollo": "organization.estimated_num_employees"}),
        DataPoint(key="annual_revenue", name="Annual revenue", description="Revenue.", why="w",
                  value_type="currency", example="$62M", source_ids=["apollo"]),
        DataPoint(key="store_platform", name="Store platform", description="Storefront.", why="w",
                  value_type="enum", options=opts, example="Shopify", source_ids=["builtwith"]),
        DataPoint(key="has_membership", name="Membership plan", description="Sells a plan.", why="w",
                  value_type="boolean", example="Yes", source_ids=["company_website"]),
        DataPoint(key="recent_news", name="Recent news", description="News.", why="w",
                  value_type="text", example="Opened a store", source_ids=["news"]),
    ]
    return Blueprint(blueprint_id="bp_0123456789ab", website="https://seller.example",
                     company=Company(name="Seller"), icp=ResolvedICP(),
                     firmographic=Section(data_points=points[:2]), technographic=Section(data_points=points[2:4]),
                     personalization=Section(data_points=points[4:]))
