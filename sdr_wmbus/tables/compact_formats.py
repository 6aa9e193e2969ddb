"""Known compact-frame formats: the DIF/VIF sequences that meters' compact frames (CI 0x79/0x7B/0x73) refer
to by signature. The decoder learns formats from every full frame it sees; these seed it so that a compact
frame decodes even before the meter's next full frame (Kamstrup sends one only every few telegrams).
Each was read off a full frame of the meter family named beside it.
"""

from __future__ import annotations

KNOWN_FORMATS: dict[str, str] = {
    # DIF/VIF header bytes (hex): meter family
    "02ff2004134413615b6167": "Kamstrup Multical 21 / flowIQ 2101",
    "04ff234413523b06ff1b426c61675167023b04138101e7ff0f": "Kamstrup flowIQ 2200",
    "040604ff0704ff080414043b0259025d04ff22026c44064414426c": "Kamstrup Multical 403/603 heat",
    "040f04ff0704ff08041484401484804014043b0259025d142d84100f84200f04ff22026c440f4414c44014c4804014426c": (
        "Kamstrup Multical 603 heat"
    ),
    "030643060314426c022d01ff21": "Kamstrup Multical 302 heat (kWh)",
    "030e430e0313426c022d01ff21": "Kamstrup Multical 302 heat (MJ)",
    "02ff20041392013ba1015b8101e7ff0f": "Kamstrup Multical 21",
    "02ff2004134413426c523b615b616751678101e7ff0f06ff1b": "Kamstrup flowIQ 2200",
    "02ff2004134413a1015b8101e7ff0f": "Kamstrup Multical 21 / flowIQ",
    "02ff2004134413615b5167": "Kamstrup Multical 21 / flowIQ",
    "02ff2004134413": "Kamstrup Multical 21 / flowIQ",
    "02ff200413523b": "Kamstrup Multical 21 / flowIQ",
    "04ff2304134413426c023b92013ba2013b06ff1ba1015b91015ba10167": "Kamstrup KWM2231 water",
    "22691269026905ff0905ff0a02fd17": "Kamstrup pressure sensor",
    "040404843c042b04ab3c": "Kamstrup Omnipower electricity",
    "426c441301fd17840113c40113840213c40213840313c40313840413c40413840513c40513840613c40613840713c40713840813"
    "046d0413": "Engelmann FAW water (billing date and volume, 15 months, date-time, total)",
}
