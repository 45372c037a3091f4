"""The asset keys of the marts dbt builds, named once for the assets that read them."""

import dagster as dg

AGENCY_QUARTER = dg.AssetKey(["marts", "mart_agency_quarter"])
AGENCY_YEAR = dg.AssetKey(["marts", "mart_agency_year"])
DISTRIBUTION_CURVE = dg.AssetKey(["marts", "mart_distribution_curve"])
AGENCY_INDICATOR_QUARTER = dg.AssetKey(["marts", "mart_agency_indicator_quarter"])
MARTS = (AGENCY_QUARTER, AGENCY_YEAR, DISTRIBUTION_CURVE)
