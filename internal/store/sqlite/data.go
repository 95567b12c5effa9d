package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/data"
)

var _ data.Store = (*DB)(nil)

type permJSON struct {
	Access string   `json:"access"`
	Users  []int64  `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

func toPermJSON(p data.Perm) permJSON {
	return permJSON{Access: string(p.Access), Users: p.Users, Groups: p.Groups}
}

func (p permJSON) perm() data.Perm {
	return data.Perm{Access: data.Access(p.Access), Users: p.Users, Groups: p.Groups}
}

type classPermsJSON struct {
	Create permJSON `json:"create"`
	Read   permJSON `json:"read"`
	Update permJSON `json:"update"`
	Delete permJSON `json:"delete"`
}

func (db *DB) CreateClass(ctx context.Context, c *data.Class) error {
	fields, err := json.Marshal(c.Fields)
	if err != nil {
		return err
	}
	perms, err := json.Marshal(classPermsJSON{toPermJSON(c.Perms.Create), toPermJSON(c.Perms.Records[data.Read]),
		toPermJSON(c.Perms.Records[data.Update]), toPermJSON(c.Perms.Records[data.Delete])})
	if err != nil {
		return err
	}
	indexes, err := json.Marshal(nonNil(c.Indexes))
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO data_classes (app_id, name, fields, perms, indexes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.AppID, c.Name, string(fields), string(perms), string(indexes), micros(c.CreatedAt))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed") {
				return data.ErrExists
			}
			return err
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		// One partial index per indexed field, over this class's records
		// only: other classes' writes skip it, and an equality or a sort
		// on the field reads only the matching entries. Field names are
		// identifiers (data.ValidName) and the id is ours, so both are
		// written into the statement.
		for _, f := range c.Indexes {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE INDEX data_c%d_%s ON data_records (%s) WHERE class_id = %d`,
				c.ID, f, fieldExpr(f), c.ID)); err != nil {
				return err
			}
		}
		return nil
	})
}

const classColumns = `id, app_id, name, fields, perms, indexes, created_at`

func scanClass(row interface{ Scan(...any) error }) (*data.Class, error) {
	var c data.Class
	var fields, perms, indexes string
	var created int64
	if err := row.Scan(&c.ID, &c.AppID, &c.Name, &fields, &perms, &indexes, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, data.ErrNotFound
		}
		return nil, err
	}
	if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
		return nil, fmt.Errorf("class %d fields: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(indexes), &c.Indexes); err != nil {
		return nil, fmt.Errorf("class %d indexes: %w", c.ID, err)
	}
	var p classPermsJSON
	if err := json.Unmarshal([]byte(perms), &p); err != nil {
		return nil, fmt.Errorf("class %d perms: %w", c.ID, err)
	}
	c.Perms = data.ClassPerms{Create: p.Create.perm(), Records: data.Perms{p.Read.perm(), p.Update.perm(), p.Delete.perm()}}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// Class matches the name exactly: the unique index only keeps names that
// differ in case apart.
func (db *DB) Class(ctx context.Context, appID int64, name string) (*data.Class, error) {
	return scanClass(db.r.QueryRowContext(ctx, `SELECT `+classColumns+` FROM data_classes WHERE app_id = ? AND name = ?`, appID, name))
}

func (db *DB) Classes(ctx context.Context, appID int64) ([]data.Class, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+classColumns+` FROM data_classes WHERE app_id = ? ORDER BY name`, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []data.Class
	for rows.Next() {
		c, err := scanClass(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// permCols renders a permission as its two columns.
func permCols(p data.Perm) (string, any) {
	switch p.Access {
	case data.OpenForUsers:
		b, _ := json.Marshal(nonNil(p.Users))
		return string(p.Access), string(b)
	case data.OpenForGroups:
		b, _ := json.Marshal(nonNil(p.Groups))
		return string(p.Access), string(b)
	}
	return string(p.Access), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func permFrom(access string, list sql.NullString) data.Perm {
	p := data.Perm{Access: data.Access(access)}
	if !list.Valid {
		return p
	}
	switch p.Access {
	case data.OpenForUsers:
		_ = json.Unmarshal([]byte(list.String), &p.Users)
	case data.OpenForGroups:
		_ = json.Unmarshal([]byte(list.String), &p.Groups)
	}
	return p
}

func recordArgs(r *data.Record) ([]any, error) {
	doc, err := json.Marshal(r.Fields)
	if err != nil {
		return nil, err
	}
	ra, rl := permCols(r.Perms[data.Read])
	ua, ul := permCols(r.Perms[data.Update])
	da, dl := permCols(r.Perms[data.Delete])
	return []any{nullText(r.ParentID), micros(r.UpdatedAt), string(doc), ra, rl, ua, ul, da, dl}, nil
}

func (db *DB) InsertRecords(ctx context.Context, recs []*data.Record) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO data_records
			(parent_id, updated_at, doc, r_access, r_list, u_access, u_list, d_access, d_list, class_id, id, app_id, user_id, created_at)
			VALUES (?, ?, jsonb(?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range recs {
			args, err := recordArgs(r)
			if err != nil {
				return err
			}
			args = append(args, r.ClassID, r.ID, r.AppID, r.UserID, micros(r.CreatedAt))
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) SaveRecords(ctx context.Context, recs []*data.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx *sql.Tx) error { return saveRecords(ctx, tx, recs) })
}

func saveRecords(ctx context.Context, tx *sql.Tx, recs []*data.Record) error {
	stmt, err := tx.PrepareContext(ctx, `UPDATE data_records SET parent_id = ?, updated_at = ?, doc = jsonb(?),
		r_access = ?, r_list = ?, u_access = ?, u_list = ?, d_access = ?, d_list = ? WHERE class_id = ? AND id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		args, err := recordArgs(r)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, append(args, r.ClassID, r.ID)...); err != nil {
			return err
		}
	}
	return nil
}

// ModifyRecords reads records and saves what fn returns in one write
// transaction, so that two updates of a record (two inc) never both
// start from the same value.
func (db *DB) ModifyRecords(ctx context.Context, classID int64, sel data.Selection, fn func([]*data.Record) ([]*data.Record, error)) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var recs []*data.Record
		var err error
		if sel.Query != nil {
			query, args := recordsSQL(classID, *sel.Query, sel.Viewer, sel.Action)
			recs, err = queryRecords(ctx, tx, query, args...)
		} else {
			recs, err = recordsByID(ctx, tx, classID, sel.IDs)
		}
		if err != nil {
			return err
		}
		save, err := fn(recs)
		if err != nil {
			return err
		}
		return saveRecords(ctx, tx, save)
	})
}

func (db *DB) DeleteRecords(ctx context.Context, appID, classID int64, ids []string) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		// The records, then their descendants in any class of the app
		// (UNION, not UNION ALL: a cycle of parents ends).
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE doomed(class_id, id) AS (
				SELECT ?, value FROM json_each(?)
				UNION
				SELECT r.class_id, r.id FROM data_records r JOIN doomed d ON r.app_id = ? AND r.parent_id = d.id
			)
			DELETE FROM data_records WHERE (class_id, id) IN (SELECT class_id, id FROM doomed)`, classID, string(list), appID)
		return err
	})
}

// recordColumns reads doc back as JSON text (it is stored as JSONB).
const recordColumns = `class_id, id, app_id, parent_id, user_id, created_at, updated_at, json(doc), r_access, r_list, u_access, u_list, d_access, d_list`

func scanRecord(row interface{ Scan(...any) error }) (*data.Record, error) {
	var r data.Record
	var parent, rl, ul, dl sql.NullString
	var created, updated int64
	var doc []byte
	var ra, ua, da string
	if err := row.Scan(&r.ClassID, &r.ID, &r.AppID, &parent, &r.UserID, &created, &updated, &doc, &ra, &rl, &ua, &ul, &da, &dl); err != nil {
		return nil, err
	}
	r.ParentID = parent.String
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&r.Fields); err != nil {
		return nil, fmt.Errorf("record %s: %w", r.ID, err)
	}
	if r.Fields == nil {
		r.Fields = map[string]any{}
	}
	r.Perms = data.Perms{permFrom(ra, rl), permFrom(ua, ul), permFrom(da, dl)}
	return &r, nil
}

func queryRecords(ctx context.Context, q querier, query string, args ...any) ([]*data.Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*data.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (db *DB) Records(ctx context.Context, classID int64, ids []string) ([]*data.Record, error) {
	return recordsByID(ctx, db.r, classID, ids)
}

func recordsByID(ctx context.Context, q querier, classID int64, ids []string) ([]*data.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	return queryRecords(ctx, q, `SELECT `+recordColumns+` FROM data_records WHERE class_id = ? AND id IN (SELECT value FROM json_each(?))`,
		classID, string(list))
}

func (db *DB) QueryRecords(ctx context.Context, classID int64, q data.Query, v *data.Viewer, a data.Action) ([]*data.Record, error) {
	query, args := recordsSQL(classID, q, v, a)
	return queryRecords(ctx, db.r, query, args...)
}

// recordsSQL is the statement of a listing.
func recordsSQL(classID int64, q data.Query, v *data.Viewer, a data.Action) (string, []any) {
	where, args := recordWhere(classID, q.Conds, v, a)
	dir, idDir := "ASC", "ASC"
	if q.Sort.Desc {
		dir, idDir = "DESC", "DESC"
	}
	limit, skip := q.Limit, q.Skip
	if q.Last {
		// The last record of the order: the first of the reverse order.
		if dir == "ASC" {
			dir, idDir = "DESC", "DESC"
		} else {
			dir, idDir = "ASC", "ASC"
		}
		limit, skip = 1, 0
	}
	order := "id " + idDir
	if e := sortExpr(q.Sort); e != "" && e != "id" {
		order = e + " " + dir + ", id " + idDir
	} else if q.Sort == (data.Sort{}) {
		// Without a sort, a near filter lists the nearest first (as
		// MongoDB's $near, which ConnectyCube's follows).
		for _, c := range q.Conds {
			if c.Op == "near" {
				order = distanceExpr(c.Field) + " " + dir + ", id " + idDir
				args = append(args, c.Values[1], c.Values[1], c.Values[0])
				break
			}
		}
	}
	query := `SELECT ` + recordColumns + ` FROM ` + recordsFrom(classID, q, true) + ` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	return query, append(args, limit, skip)
}

func (db *DB) CountRecords(ctx context.Context, classID int64, q data.Query, v *data.Viewer, a data.Action) (int, error) {
	where, args := recordWhere(classID, q.Conds, v, a)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+recordsFrom(classID, q, false)+` WHERE `+where, args...).Scan(&n)
	return n, err
}

// recordsFrom names the table, with the index to read it by when one of
// the class's indexes serves the query: the sort's field, or a field
// compared for equality. SQLite is told rather than left to choose:
// without statistics (which a class that grows from nothing never has in
// time) it preferred the primary key's class_id prefix to a field's
// partial index, and read the whole class to answer what the index finds
// in a few steps. In a listing, ranges without a sort on their field keep
// the id order scan: when they match much it stops at the page's end,
// which an index range followed by a sort on id never does. A count
// (listing false) reads every match anyway, so a range narrows it too.
func recordsFrom(classID int64, q data.Query, listing bool) string {
	indexed := func(f string) bool { return f != "" && slices.Contains(q.Indexed, f) }
	use := ""
	if listing && q.Sort.Column == "" && indexed(q.Sort.Field) {
		use = q.Sort.Field
	}
	for _, c := range q.Conds {
		if use != "" || c.Array || !indexed(c.Field) {
			continue
		}
		switch c.Op {
		case "eq", "in":
			use = c.Field
		case "lt", "lte", "gt", "gte":
			if !listing {
				use = c.Field
			}
		}
	}
	if use == "" {
		return "data_records"
	}
	return fmt.Sprintf("data_records INDEXED BY data_c%d_%s", classID, use)
}

func sortExpr(s data.Sort) string {
	if s.Column != "" {
		return s.Column
	}
	if s.Field != "" {
		return fieldExpr(s.Field)
	}
	return ""
}

// fieldExpr reads a class field from the document. Field names are
// identifiers (data.ValidName), so the path is written into the SQL as is.
func fieldExpr(name string) string { return `json_extract(doc, '$.` + name + `')` }

// distanceExpr is the great-circle distance in meters (haversine, Earth
// radius 6,371 km) from a Location field ([longitude, latitude]) to a
// point given by three parameters: latitude, latitude, longitude.
func distanceExpr(field string) string {
	lng := `json_extract(doc, '$.` + field + `[0]')`
	lat := `json_extract(doc, '$.` + field + `[1]')`
	return `(12742000.0 * asin(sqrt(pow(sin((radians(` + lat + `) - radians(?)) / 2), 2) + cos(radians(?)) * cos(radians(` + lat + `)) * pow(sin((radians(` + lng + `) - radians(?)) / 2), 2))))`
}

// recordWhere is the WHERE clause of a listing: the class, the filters
// and, for a viewer, the record permission of action a.
//
// The class id is written into the SQL as a literal, not bound: a class's
// field indexes are partial indexes WHERE class_id = <id> (CreateClass),
// and SQLite uses a partial index only when the query's WHERE visibly
// implies the index's.
func recordWhere(classID int64, conds []data.Cond, v *data.Viewer, a data.Action) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("class_id = " + strconv.FormatInt(classID, 10))
	for _, c := range conds {
		b.WriteString(" AND ")
		args = dataCondSQL(&b, c, args)
	}
	if v != nil {
		col := [...]string{"r", "u", "d"}[a]
		acc, list := col+"_access", col+"_list"
		fmt.Fprintf(&b, " AND (%s = 'open' OR user_id = ? OR (%s = 'open_for_users_ids' AND EXISTS (SELECT 1 FROM json_each(%s) WHERE value = ?))", acc, acc, list)
		args = append(args, v.UserID, v.UserID) // the owner always passes (data.Perm.Allows)
		if len(v.Tags) > 0 {
			fmt.Fprintf(&b, " OR (%s = 'open_for_groups' AND EXISTS (SELECT 1 FROM json_each(%s) WHERE value IN (%s)))", acc, list, dataMarks(len(v.Tags)))
			for _, t := range v.Tags {
				args = append(args, t)
			}
		}
		b.WriteString(")")
	}
	return b.String(), args
}

func dataMarks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func dataCondSQL(b *strings.Builder, c data.Cond, args []any) []any {
	if c.Array {
		path := `json_each(doc, '$.` + c.Field + `')`
		switch c.Op {
		case "all":
			b.WriteString("(1")
			for _, g := range c.Values {
				group := g.([]any)
				fmt.Fprintf(b, " AND EXISTS (SELECT 1 FROM %s WHERE value IN (%s))", path, dataMarks(len(group)))
				args = append(args, group...)
			}
			b.WriteString(")")
		case "nin":
			fmt.Fprintf(b, "NOT EXISTS (SELECT 1 FROM %s WHERE value IN (%s))", path, dataMarks(len(c.Values)))
			args = append(args, c.Values...)
		default: // in
			fmt.Fprintf(b, "EXISTS (SELECT 1 FROM %s WHERE value IN (%s))", path, dataMarks(len(c.Values)))
			args = append(args, c.Values...)
		}
		return args
	}
	if c.Op == "near" {
		b.WriteString(distanceExpr(c.Field) + " <= ?")
		return append(args, c.Values[1], c.Values[1], c.Values[0], c.Values[2])
	}
	e := c.Column
	if e == "" {
		e = fieldExpr(c.Field)
	}
	switch c.Op {
	case "eq":
		b.WriteString(e + " = ?")
	case "ne":
		b.WriteString("(" + e + " IS NULL OR " + e + " != ?)")
	case "lt":
		b.WriteString(e + " < ?")
	case "lte":
		b.WriteString(e + " <= ?")
	case "gt":
		b.WriteString(e + " > ?")
	case "gte":
		b.WriteString(e + " >= ?")
	case "ctn":
		b.WriteString("instr(" + e + ", ?) > 0")
	case "in":
		b.WriteString(e + " IN (" + dataMarks(len(c.Values)) + ")")
	case "nin":
		b.WriteString("(" + e + " IS NULL OR " + e + " NOT IN (" + dataMarks(len(c.Values)) + "))")
	default:
		// ParseCriteria lets no other operator through.
		b.WriteString("0")
		return args
	}
	return append(args, c.Values...)
}

func (db *DB) AggregateRecords(ctx context.Context, classID int64, conds []data.Cond, v *data.Viewer, agg *data.Aggregation) ([][]any, error) {
	where, args := recordWhere(classID, conds, v, data.Read)
	group := "NULL"
	switch {
	case agg.GroupByColumn != "":
		group = agg.GroupByColumn
	case agg.GroupBy != "":
		group = fieldExpr(agg.GroupBy)
	}
	cols := []string{group}
	for _, k := range agg.Calcs {
		// The functions are checked (data.ParseAggregation): avg, min,
		// max or sum.
		cols = append(cols, k.Fn+"("+fieldExpr(k.Field)+")")
	}
	query := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + recordsFrom(classID, data.Query{Conds: conds}, false) + ` WHERE ` + where
	if group != "NULL" {
		query += ` GROUP BY 1 ORDER BY 1`
	}
	query += ` LIMIT ` + strconv.Itoa(data.MaxGroups)
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
