"""Reading and parsing: a file on disk becomes a ``Report`` and its ``Chunk``\\ s.

The stage runs in this order: ``readers`` (bytes → text, per format and encoding) → ``cleaning`` (page
furniture removed) → ``metadata`` and ``gazetteer`` (title, places, year, dates, issuer) → ``headings`` and
``sections`` (the heading tree) → ``categories`` (what each section is about) → ``chunking`` (passages cut at
sentence ends within one section). ``reports`` ties them together.
"""
