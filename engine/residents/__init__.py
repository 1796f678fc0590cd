"""The residents' service platform (居民服务): what a resident finds on ``/r`` beside their
own items — the people to call (叫得应, ``contacts``), the compound's finances in the open
(经营性收支公示, ``disclosures``), neighbours helping each other and needs matched with
resources (邻里互助, 需求清单/资源清单, ``listings`` and ``matching``), and the words and
times their pages speak.

Each module holds one concept; everything district-specific (which file fields form a
contact card, what a state is called for a resident, a statement's parts) is data in the
pack: ``disclosure`` and ``listing`` are definition kinds edited in the designer.
"""

# Modules with attachments register their record kinds (statements' vouchers, listings'
# photos) when imported.
from engine.residents import disclosures, listings  # noqa: F401
