"""The residents' service platform (居民服务): what a resident finds on ``/r`` beside their
own items — the people to call (叫得应), and the words and times their pages speak.

Each module holds one concept; everything district-specific (which file fields form a
contact card, what a state is called for a resident) is data in the pack.
"""
