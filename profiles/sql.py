"""Hand-written SQL of profiles' hot reads, in a module that imports nothing,
so the benchmark's bare baseline (bench/raw_app.py) runs the same statement."""

# The lightning tab in one statement: the user's newest reactions (the window,
# read through ix_reactions_user_created), each post's newest among them, a
# page of those after the cursor, and only then the posts and their authors.
# {hidden} selects the ids of the users hidden from the reader (a block, either
# way: config.privacy): a hidden user's tab is empty (and so a 404), and their
# posts are left out of the others'.
REACTED_POSTS_SQL = """
SELECT page.post_id, posts.body, posts.created_at, posts.author_id, users.username,
       page.created_at, page.id
FROM (
    SELECT post_id, created_at, id FROM (
        SELECT post_id, created_at, id,
               ROW_NUMBER() OVER (
                   PARTITION BY post_id ORDER BY created_at DESC, id DESC
               ) AS newest
        FROM (
            SELECT post_id, created_at, id FROM reactions
            WHERE user_id = %s AND EXISTS (
                SELECT 1 FROM users AS reactor
                WHERE reactor.id = %s AND reactor.is_active
                AND reactor.id NOT IN ({hidden})
            )
            ORDER BY created_at DESC, id DESC
            LIMIT %s
        ) AS recent
    ) AS ranked
    WHERE newest = 1 AND post_id NOT IN (
        SELECT hidden_posts.id FROM posts AS hidden_posts
        WHERE hidden_posts.author_id IN ({hidden})
    ) {after}
    ORDER BY created_at {direction}, id {direction}
    LIMIT %s
) AS page
JOIN posts ON posts.id = page.post_id
JOIN users ON users.id = posts.author_id
ORDER BY page.created_at {direction}, page.id {direction}
"""
