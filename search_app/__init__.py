"""Search side: query parsing, hybrid retrieval, highlighting, the Streamlit page and the search CLI."""
