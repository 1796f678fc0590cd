"""The designer's concepts beyond drafts (engine/designer.py): keys derived from Chinese names
(``keys``), what a condition may read besides the answers (``context``), and a definition's
changes and decisions in words (``words``)."""
