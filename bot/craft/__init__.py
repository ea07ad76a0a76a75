"""Craft: the poetry coach (/check) and the model's reading of a text (/score).

Pure logic over the forms checker and the writing service; no Discord code here.
"""
