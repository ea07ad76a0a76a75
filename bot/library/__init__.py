"""A user's library: favourites, saved prompts, remixes, who may see which piece, exports."""
