"""Console pages for campaigns (placeholder, filled below)."""
from fastapi import APIRouter

router = APIRouter(prefix="/admin/campaigns", include_in_schema=False)
