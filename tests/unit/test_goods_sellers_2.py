"""Manufacturers and distributors that sell to other companies (issue 14, item 3; pack goods_sellers_2.yaml).

A realistic page of each kind of seller - hero copy, the seller's own trade words, end markets named in passing -
routes to its category and seller kind, the buyers are not the seller's own industry, and the blueprint carries
how THAT seller qualifies its buyers (an OEM's programmes, a shop's metal tonnage, a fleet's parts spend)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase
from tests.support.routing import chosen_keys, routed
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PACK = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "goods_sellers_2.yaml"

PAGES = {
    "wire_harness_cable_assemblies": ("Custom Wire Harnesses and Cable Assemblies", (
        "From prototype to production, we build wire harnesses and custom cable assemblies to your drawings. "
        "Overmolded cables, harness assembly and electromechanical assemblies, all built and tested to "
        "IPC/WHMA-A-620 Class 3. Trusted by industrial equipment, medical and defense OEMs.")),
    "metal_stamping": ("Precision Metal Stamping", (
        "We produce precision metal stamping and deep drawn parts on progressive dies and fourslide presses. "
        "Stamped metal parts from brackets to terminals, with in-house tool and die, for automotive, appliance "
        "and electrical customers. Quote your next program today.")),
    "metal_castings_forgings": ("Investment Castings and Custom Forgings", (
        "A foundry partner for engineers: investment castings and sand castings in carbon and stainless steel, "
        "plus closed die forgings and seamless rolled rings. We serve pump and valve, off-highway equipment "
        "and aerospace OEMs with machined, ready-to-install parts.")),
    "metal_finishing_heat_treating": ("Metal Finishing and Heat Treating", (
        "Nadcap accredited anodizing services, hard coat anodizing, electroless nickel plating and passivation "
        "services, plus vacuum heat treating and nitriding. Fast turnaround for machine shops and aerospace "
        "and medical device manufacturers.")),
    "industrial_fasteners": ("Specialty Fasteners and C-Parts Programs", (
        "A fastener supplier for production lines: industrial fasteners, cold headed parts, threaded inserts "
        "and self-clinching fasteners. Our bin stocking and kanban programs manage your class C parts so "
        "your assembly line never stops.")),
    "seals_gaskets_rubber_components": ("Seals, Gaskets and Molded Rubber Products", (
        "Custom o-rings, die cut gaskets and molded rubber products engineered for your application. "
        "Liquid silicone rubber and LSR molding, rubber extrusions and elastomer compounds that meet FDA and "
        "USP Class VI. Sealing solutions for medical, fluid power and equipment designers.")),
    "industrial_adhesives_coatings": ("Industrial Adhesives and Conformal Coatings", (
        "Light-curing adhesives, structural adhesives and potting compounds for manufacturers. Our conformal "
        "coatings protect electronics; our engineers help with dispensing and curing on your line. Used in "
        "medical device assembly, electronics and automotive sensors.")),
    "technical_textiles": ("Engineered Fabrics for Demanding Applications", (
        "We weave narrow fabrics and coated fabrics, and produce filtration media and composite reinforcement "
        "fabrics. Industrial textiles for safety harness webbing, medical and aerospace programs - made in "
        "our mills in the Carolinas.")),
    "packaging_machinery": ("Packaging Machinery Built for Uptime", (
        "Filling and capping systems, vertical form fill seal baggers, cartoners, case packers and robotic "
        "palletizers. End-of-line packaging for food, beverage and personal care plants. See us at PACK EXPO.")),
    "test_measurement_instruments": ("Test and Measurement Solutions", (
        "Oscilloscopes, spectrum analyzers and data acquisition systems for design validation and production "
        "test, backed by NIST traceable calibration. Engineers in semiconductor, aerospace and automotive "
        "electronics rely on our instruments.")),
    "steel_service_centers": ("Your Steel Service Center", (
        "A metals service center stocking carbon, stainless and aluminum sheet and plate, bar and tube. "
        "Processing includes plate burning, cut-to-length and sawing, with next-day delivery on our own "
        "trucks to fabricators and manufacturers across the region.")),
    "chemical_ingredient_distribution": ("Specialty Chemical Distribution", (
        "A chemical distributor for formulators: bulk and packaged chemicals, solvents and plastic resin "
        "distribution, with repackaging and blending and delivery in totes and drums. Responsible Distribution "
        "verified. We serve coatings, personal care and food manufacturers.")),
    "welding_gas_supply": ("Welding Supply and Industrial Gases", (
        "Your local welding supply store: welding equipment and consumables, shielding gases, specialty gases "
        "and industrial gases with cylinder delivery and microbulk. Serving fabrication shops, contractors "
        "and plants since 1958.")),
    "pumps_valves_flow_control": ("Pumps, Valves and Process Equipment", (
        "An industrial pump distributor and valve automation center: centrifugal pumps, process pumps, "
        "control valves, butterfly valves and mechanical seals, with pump packages built in our shop. We "
        "support municipal water and wastewater, chemical and refining plants.")),
    "fluid_power_distribution": ("Hydraulics and Pneumatics", (
        "Fluid power distributor and system builder: hydraulic components, hydraulic power units, hydraulic "
        "cylinders and pneumatic components, with hydraulic system design for mobile and industrial machinery "
        "builders. Hose and fittings made while you wait.")),
    "machine_tool_dealers": ("CNC Machine Tools - Sales, Service and Applications", (
        "Machine tool distributor for the Midwest: vertical machining centers, horizontal machining centers, "
        "5-axis machining centers and Swiss-type lathes, plus used CNC machines and turnkey machining cells. "
        "Our applications engineers help job shops and production plants cut cycle times.")),
    "material_handling_equipment": ("Material Handling Equipment and Warehouse Solutions", (
        "Forklift sales, rental and service from your local lift truck dealer, plus pallet racking, dock "
        "equipment, conveyor systems and mezzanine systems. We design and install warehouses and distribution "
        "centers for manufacturers, 3PLs and food distributors.")),
    "jan_san_supply_distribution": ("Janitorial Supplies Distributor", (
        "Janitorial and sanitation supplies delivered next day: cleaning chemicals, chemical dispensing "
        "systems, floor care equipment, can liners, paper towels and foodservice disposables. Serving "
        "building service contractors, schools, hospitals and hotels.")),
    "lab_supplies_distribution": ("Laboratory Supplies and Equipment", (
        "Lab consumables, laboratory chemicals and reagents, pipette tips, cleanroom supplies and benchtop "
        "equipment. Punch-out ordering for research labs at biotech companies, universities and clinical "
        "laboratories, with on-site stockroom programs.")),
    "heavy_duty_truck_parts": ("Heavy Duty Truck and Trailer Parts", (
        "Heavy-duty parts distributor with 40 branches: brake and wheel end, drivetrain, filters, lighting "
        "and trailer parts, delivered to your shop. Fleet parts programs for trucking companies, waste "
        "haulers and leasing fleets.")),
    "roofing_building_products_distribution": ("Roofing Supply and Exterior Building Products", (
        "A roofing distributor serving contractors: shingles, low-slope systems, siding and windows, with "
        "rooftop delivery from 60 branches. Exterior building products and contractor credit accounts for "
        "roofers and builders.")),
    "commercial_print_direct_mail": ("Print and Mail, Done Right", (
        "A commercial printer and mail house: offset and digital printing, variable data printing and "
        "personalized direct mail, catalog printing, lettershop and presort postage. Fundraising appeals for "
        "nonprofits, member mailings for credit unions and admissions mail for colleges.")),
    "electrical_power_equipment": ("Power Distribution Equipment", (
        "We build pad-mounted transformers, dry-type transformers, medium voltage switchgear and UL 891 "
        "switchboards, plus modular power skids and e-houses. Shorter transformer lead times for data centers, "
        "utilities and renewable projects.")),
    "compressed_air_systems": ("Compressed Air Systems - Sales, Service and Rental", (
        "Industrial air compressors, rotary screw compressors, air dryers and filtration and nitrogen "
        "generators. Our compressed air audit and compressed air leak detection cut energy costs; compressor "
        "rental and planned maintenance keep plants running.")),
}


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>", footer="<footer>Privacy policy. Terms. Request a quote.</footer>",
                       nav="<nav><a href='/'>Home</a> <a href='/about'>About</a> <a href='/contact'>Contact</a></nav>")


def test_every_category_of_the_pack_has_a_page_here() -> None:
    assert set(PAGES) == {c["id"] for c in yaml.safe_load(PACK.read_text())["categories"]}


@pytest.mark.parametrize("category_id", sorted(PAGES))
def test_a_goods_seller_routes_to_its_category_and_qualifies_its_buyers(kb: KnowledgeBase, category_id: str) -> None:
    category = kb.categories[category_id]
    analysis, targeting = routed(_site(*PAGES[category_id]), kb, category_id)
    assert targeting.verticals and targeting.verticals[0].id not in category.own_verticals
    chosen = chosen_keys(kb, analysis, targeting)
    own = chosen & set(category.data_points)
    assert len(own) >= 3, (category_id, sorted(chosen))


def test_the_pack_is_manufacturers_and_distributors_with_real_competitors(kb: KnowledgeBase) -> None:
    ids = set(PAGES)
    for cid in ids:
        category = kb.categories[cid]
        assert category.kind in {"manufacturing", "distribution"}, cid
        assert len(category.competitors) >= 10, cid
        assert len(category.data_points) >= 6, cid
        assert not set(category.own_verticals) & set(category.typical_verticals), cid
    assert sum(kb.categories[c].kind == "manufacturing" for c in ids) >= 10
    assert sum(kb.categories[c].kind == "distribution" for c in ids) >= 8


def test_new_data_points_describe_the_buyer_and_are_claimed_by_their_sellers(kb: KnowledgeBase) -> None:
    keys = [d["key"] for d in yaml.safe_load(PACK.read_text())["data_points"]]
    assert keys and all(k.startswith("gs2_") for k in keys)
    for key in keys:
        spec = kb.data_points[key]
        assert spec.applies_to.categories and set(spec.applies_to.categories) <= set(PAGES), key
        for cid in spec.applies_to.categories:
            assert key in kb.categories[cid].data_points, (key, cid)


SOFTWARE_FOR_THESE_SELLERS = {
    # software written for the sellers above uses their trade words; it stays a software vendor
    "distribution_erp_commerce": ("ERP Software for Metals Service Centers", (
        "Our distribution ERP runs inventory, processing work orders, quoting and cut-to-length scheduling for "
        "steel service center operations and metals distribution businesses. Cloud software with mill certs and "
        "remnant tracking.")),
    "job_shop_quoting_software": ("Quoting Software for Manufacturers", (
        "Quoting software for machine shops and metal stamping companies: price stamped parts and machined parts "
        "from CAD in minutes, track every RFQ and win more jobs.")),
    "cmms_asset_maintenance": ("CMMS for Manufacturing Plants", (
        "Maintenance software that tracks every asset - pumps and valves, motors, conveyors - with work orders, "
        "preventive maintenance schedules and spare parts inventory. A CMMS your technicians will use.")),
}


@pytest.mark.parametrize("category_id", sorted(SOFTWARE_FOR_THESE_SELLERS))
def test_software_for_these_sellers_is_not_read_as_one_of_them(kb: KnowledgeBase, category_id: str) -> None:
    routed(_site(*SOFTWARE_FOR_THESE_SELLERS[category_id]), kb, category_id, kind="software")


NEVER_FOR = {
    # the buyer market's own business that says nothing about buying from this seller
    "lab_supplies_distribution": {"active_trial_count", "edc_system", "ctms_etmf_system", "higher_ed_lms"},
    "material_handling_equipment": {"fleet_power_units", "usdot_operating_authority", "trucking_tms_dispatch"},
    "jan_san_supply_distribution": {"current_payroll_provider", "time_tracking_system"},
    "metal_finishing_heat_treating": {"defense_erp_accounting", "defense_secure_it_environment"},
    "machine_tool_dealers": {"warehouse_footprint", "wms_system"},
}


@pytest.mark.parametrize("category_id", sorted(NEVER_FOR))
def test_the_buyer_markets_own_business_is_left_out(kb: KnowledgeBase, category_id: str) -> None:
    analysis, targeting = routed(_site(*PAGES[category_id]), kb)
    assert not chosen_keys(kb, analysis, targeting) & NEVER_FOR[category_id]
