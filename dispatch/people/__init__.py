"""Grid members, officers, legal reviewers and agency staff: posts, teams, positions, actors."""
