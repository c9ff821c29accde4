//! A float64 host matrix for checking results on the host: products,
//! transposes, norms and test matrices of known structure. Needs nothing
//! native, so the browser tests use it too.
#![allow(dead_code)]

use super::noise::uniform;

/// A host matrix in float64, row-major.
#[derive(Clone, Debug)]
pub struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Mat {
    /// The `rows x cols` matrix of row-major `data`.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Mat {
        assert_eq!(data.len(), rows * cols, "{rows} x {cols} values");
        Mat { rows, cols, data }
    }

    pub fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn eye(n: usize) -> Mat {
        let mut m = Mat::zeros(n, n);
        for i in 0..n {
            m.data[i * n + i] = 1.0;
        }
        m
    }

    pub fn random(seed: u64, rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: uniform(seed, rows * cols, -1.0, 1.0),
        }
    }

    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    pub fn t(&self) -> Mat {
        let mut out = Mat::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                out.data[j * self.rows + i] = self.at(i, j);
            }
        }
        out
    }

    pub fn mul(&self, other: &Mat) -> Mat {
        assert_eq!(self.cols, other.rows);
        let mut out = Mat::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(i, k);
                if a != 0.0 {
                    for j in 0..other.cols {
                        out.data[i * other.cols + j] += a * other.at(k, j);
                    }
                }
            }
        }
        out
    }

    pub fn sub(&self, other: &Mat) -> Mat {
        assert_eq!((self.rows, self.cols), (other.rows, other.cols));
        Mat {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(a, b)| a - b)
                .collect(),
        }
    }

    /// The Frobenius norm.
    pub fn norm(&self) -> f64 {
        self.data.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Columns scaled by `s`.
    pub fn scale_columns(&self, s: &[f64]) -> Mat {
        let mut out = self.clone();
        for row in out.data.chunks_mut(self.cols) {
            row.iter_mut().zip(s).for_each(|(x, f)| *x *= f);
        }
        out
    }

    /// An orthogonal n x n matrix (Gram-Schmidt, twice, of random columns).
    pub fn orthogonal(seed: u64, n: usize) -> Mat {
        let a = Mat::random(seed, n, n).t();
        let mut q: Vec<Vec<f64>> = Vec::new();
        for col in a.data.chunks(n) {
            let mut v = col.to_vec();
            for _ in 0..2 {
                for u in &q {
                    let d: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(u).for_each(|(x, y)| *x -= d * y);
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            q.push(v.iter().map(|x| x / norm).collect());
        }
        Mat {
            rows: n,
            cols: n,
            data: q.concat(),
        }
        .t()
    }

    /// U diag(s) Vᵀ with random orthogonal U, V: singular values `s`.
    pub fn with_singular_values(seed: u64, m: usize, n: usize, s: &[f64]) -> Mat {
        let u = Mat::orthogonal(seed, m);
        let v = Mat::orthogonal(seed + 1, n);
        let mut d = Mat::zeros(m, n);
        for (i, &x) in s.iter().enumerate() {
            d.data[i * n + i] = x;
        }
        u.mul(&d).mul(&v.t())
    }

    /// Condition number `cond`: singular values spaced geometrically.
    pub fn ill_conditioned(seed: u64, n: usize, cond: f64) -> Mat {
        let s: Vec<f64> = (0..n)
            .map(|i| cond.powf(-(i as f64) / (n.max(2) - 1) as f64))
            .collect();
        Mat::with_singular_values(seed, n, n, &s)
    }

    /// B + Bᵀ for a random B: symmetric, indefinite.
    pub fn symmetric(seed: u64, n: usize) -> Mat {
        let b = Mat::random(seed, n, n);
        let data = b.data.iter().zip(&b.t().data).map(|(x, y)| x + y).collect();
        Mat {
            rows: n,
            cols: n,
            data,
        }
    }

    /// B Bᵀ + n I: symmetric positive definite.
    pub fn spd(seed: u64, n: usize) -> Mat {
        let b = Mat::random(seed, n, n);
        let mut a = b.mul(&b.t());
        for i in 0..n {
            a.data[i * n + i] += n as f64 * 0.1 + 0.5;
        }
        a
    }

    /// X Y with X (m x r), Y (r x n): rank r.
    pub fn rank_deficient(seed: u64, m: usize, n: usize, r: usize) -> Mat {
        Mat::random(seed, m, r).mul(&Mat::random(seed + 1, r, n))
    }
}

/// ||I - QᵀQ|| / (rows eps) for the columns of Q, in float32 epsilons.
pub fn orthogonality(q: &Mat) -> f64 {
    Mat::eye(q.cols).sub(&q.t().mul(q)).norm() / (q.rows.max(1) as f64 * f32::EPSILON as f64)
}
