"""A one-line chat address split the way Messenger's receipt template wants it:
street_1, street_2, city, state, postal_code, country.

"12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh 700000" -> street_1 "12 Lê Lợi",
street_2 "Phường Bến Nghé", city "Quận 1", state "TP Hồ Chí Minh", postal_code "700000"
(the last part is the province or state, the one before it the district or city). Messenger
requires every one of street_1, city, postal_code, state and country, and Vietnamese
customers seldom type a postal code: without one there is no address to send (None), and
the summary says the address in its text instead."""

from __future__ import annotations

import re

_POSTAL = re.compile(r"(?:^|\s)(\d{4,6})\s*$")  # VN: 5 or 6 digits; PH: 4


def receipt_address(text: str, country: str) -> dict[str, str] | None:
    parts = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    if len(parts) < 2:
        return None
    postal = None
    for index in range(len(parts) - 1, 0, -1):  # never the street's house number
        found = _POSTAL.search(parts[index])
        if found:
            postal = found.group(1)
            parts[index] = parts[index][: found.start()].strip()
            if not parts[index]:
                del parts[index]
            break
    if postal is None or len(parts) < 2:
        return None
    state = parts[-1]
    city = parts[-2] if len(parts) > 2 else state
    address = {
        "street_1": parts[0],
        "city": city,
        "postal_code": postal,
        "state": state,
        "country": country.upper(),
    }
    middle = parts[1:-2]
    if middle:
        address["street_2"] = ", ".join(middle)
    return address
