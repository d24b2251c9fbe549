"""Getting articles: sources in YAML, polite and guarded fetching, feeds, sitemaps and pages,
extraction and normalisation; the crawl service publishes to ``articles.raw``.

    sources.py     sources.yaml, typed, FILE:LINE:COL errors      service.py  the crawl service
    fetch.py       httpx with an address guard, robots, limits    poll.py     one round of a source
    feeds.py       RSS/Atom/sitemaps wrapped at the edge          pages.py    list and article pages
    spider.py      Scrapy for html sources, in a subprocess       state.py    what was seen, health
    extract/       title, time and body of a page                 normalize/  encodings, dates, clean text
"""
