"""Normalisation of fetched pages before extraction and publication.

    encoding.py   bytes -> text: override > BOM > HTTP > meta > sniffing; never mojibake
    dates.py      publication-time strings (2020年1月9日 07:43, 3小时前, RFC 822 ...) -> datetime
    clean.py      boilerplate lines around a main text (bylines, tool bars, 上一篇/下一篇 ...)
    dedup.py      story clusters: exact and near duplicates (SimHash), first source, reposts
"""
