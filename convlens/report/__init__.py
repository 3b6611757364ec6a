"""convlens.report"""
