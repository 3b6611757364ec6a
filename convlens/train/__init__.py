"""convlens.train"""
