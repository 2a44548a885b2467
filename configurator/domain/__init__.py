"""The domain: spec loading, the rule language, the constraint engine, pricing, materials, routing.

Nothing here imports Flask or the database: the benchmarks and property tests use it alone.
"""
from .model import (  # noqa: F401
    Choice, LineSpec, Measurement, MaterialSpec, Operation, Option, ProductSpec, Rule,
    Station, Surcharge, TextInput, Usage, VolumeTier,
)
from .loader import SpecError, load_line, load_product, load_specs  # noqa: F401
from .engine import propagate  # noqa: F401
from .validation import validate  # noqa: F401
from .results import (  # noqa: F401
    BillLine, ChoiceState, Costing, MeasurementRange, Propagation, Quote, Reason, RoutingStep,
    Validation, Violation,
)
from .pricing import bill_of_materials, costing, quote, routing  # noqa: F401
