"""convlens.explain"""
