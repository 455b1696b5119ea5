"""Search side: query parsing, hybrid retrieval policy, highlighting, the Streamlit page and the search CLI."""
