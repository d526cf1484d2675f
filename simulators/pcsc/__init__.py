"""A private pcscd with vpcd virtual readers (see ``runner``) and its command line (``cli``)."""
