"""(filled by its track)"""
