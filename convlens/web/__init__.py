"""convlens.web"""
