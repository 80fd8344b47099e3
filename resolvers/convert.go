package resolvers

// deref returns the string s points to, or "" for nil: for optional inputs whose absence
// means empty.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
