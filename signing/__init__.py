"""Seals, PAdES signatures and the Word copy of reply letters (issue 23)."""

import warnings

# pyHanko imports cryptography's DSA names; the warning says nothing about our use (EC keys).
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")
