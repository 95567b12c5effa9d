package sqlite

// SetSearchProbe lets a test take both of SearchMessages' paths; it
// returns the function that puts the default back.
func SetSearchProbe(n int) (restore func()) {
	old := searchProbe
	searchProbe = n
	return func() { searchProbe = old }
}
