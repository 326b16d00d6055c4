"""Use cases of the Appstore: each public function is one transaction."""
