"""Distances on the Earth and how far a geolocation may be off."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

# How far off an IP geolocation may be, by the precision of the database answer.
# DB-IP City Lite and GeoLite2 place many addresses at a city centre or at the
# centre of the country; published studies put city-level hits within tens of
# km at best, and country-only answers hundreds of km away or more.
CITY_ACCURACY_KM = 50.0
COUNTRY_ACCURACY_KM = 500.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
